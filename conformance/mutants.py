"""Edited copies of the reference loader: mutants that break one clause, variants that conform."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.reference import ReferenceLoader, loader_source, node_loader_source

PREFIX = "mutant:"
VARIANT_PREFIX = "variant:"
#: QuickJS stack of mutants and variants (the reference loader's default is far larger).
MUTANT_STACK = 4 << 20


#: The JavaScript a mutant of each profile edits: None (Modules/1.1.1) loader.js, "node"
#: node-loader.js, which the reference loader runs programs of the node profile with.
SOURCES = {None: ("loader.js", loader_source), "node": ("node-loader.js", node_loader_source)}


@dataclass(frozen=True)
class Mutant:
    """A named text edit of the reference loader that breaks `clause` (in a sandbox, when
    sandbox): of loader.js for Modules/1.1.1 (profile None), of node-loader.js for the node
    profile (profile "node", `clause` then an id of node-clauses.yaml).

    With clause None it is a conforming variant: it does something the spec (or Node's docs)
    allows that the reference loader does not, and must pass every case that applies to it.
    """

    name: str
    clause: str | None
    description: str
    #: (text, replacement) pairs; each text must occur exactly once in the edited file.
    edits: tuple[tuple[str, str], ...]
    sandbox: bool = False
    #: The spec versions whose text the mutant breaks or the variant conforms to; () for all.
    versions: tuple[str, ...] = ()
    #: The profile whose loader is edited and whose cases judge it; None for Modules/1.1.1.
    profile: str | None = None

    def source(self) -> str:
        """The edited file with the edits applied; ValueError when an edit no longer applies."""
        file_name, original = SOURCES[self.profile]
        source = original()
        for text, replacement in self.edits:
            found = source.count(text)
            if found != 1:
                raise ValueError(f"mutant {self.name}: {text!r} occurs {found} times in "
                                 f"{file_name}, not once")
            source = source.replace(text, replacement)
        return source

    def specs(self, versions: tuple[str, ...]) -> tuple[str, ...]:
        """What the mutant is judged under, of `versions` (the spec versions): its profile
        alone, or the versions it names, or all of them."""
        if self.profile:
            return (self.profile,)
        return tuple(v for v in versions if not self.versions or v in self.versions)

    def loader(self) -> ReferenceLoader:
        prefix = PREFIX if self.clause else VARIANT_PREFIX
        # No case needs a deep stack; a small one ends a mutant's runaway recursion quickly.
        # A node profile mutant keeps loader.js and edits node-loader.js, and the other way.
        edited = self.source()
        if self.profile == "node":
            return ReferenceLoader(node_js_source=edited, name=prefix + self.name,
                                   stack_limit=MUTANT_STACK)
        return ReferenceLoader(sandbox=self.sandbox, js_source=edited,
                               name=prefix + self.name, stack_limit=MUTANT_STACK)


def _m(name, clause, description, *edits, sandbox=False, versions=(), profile=None) -> Mutant:
    return Mutant(name, clause, description, tuple(edits), sandbox, tuple(versions), profile)


_RELATIVE_BASE = "var out = isRelative(terms) && fromId ? fromId.split('/').slice(0, -1) : [];"
_CACHE_LOOKUP = "record = cache.get(topId);"
_CACHE_FILL = "        cache.set(topId, record);\n        try {"
_RUN_FACTORY = ("factory.call(record.exports, createRequire(topId), record.exports, "
                "record.module);")
_NOT_FOUND = "            throw fail(\"cannot find module '\" + topId + \"'\" +\n"
_WRAPPER = "'(function (require, exports, module) {' + code + '\\n})'"
_DEFINE_ID = "defineReadOnly(module, 'id', topId);"
_DEFINE_MAIN = "defineReadOnly(require, 'main', mainModule);"
_DEFINE_PATHS = "defineProperty(require, 'paths', pathsProperty);"
_DEFINE_URI = "defineReadOnly(module, 'uri', fileUri(path));"
_NEW_RECORD = "var record = {module: createModuleObject(topId, path), exports: {}};"
_PATHS_IN_CREATE_REQUIRE = "        if (!sandbox) {\n            " + _DEFINE_PATHS
_URI_IN_CREATE_MODULE = "        if (!sandbox) {\n            " + _DEFINE_URI

MUTANTS: tuple[Mutant, ...] = (
    _m("no-cache", "modules.singleton",
       "no module cache: every require runs the module anew",
       (_CACHE_LOOKUP, "record = undefined;")),
    _m("cache-after-run", "require.cycles",
       "a module enters the cache only after its code ran, so a cycle recurses",
       (_CACHE_FILL, "        try {"),
       (_RUN_FACTORY, _RUN_FACTORY + " cache.set(topId, record);")),
    _m("cycle-fresh-object", "require.cycles",
       "inside a cycle require hands out an empty object, not the partial exports",
       (_CACHE_LOOKUP, "record = cache.get(topId); if (record && !record.done) "
                       "{ return {}; }"),
       (_RUN_FACTORY, _RUN_FACTORY + " record.done = true;")),
    _m("relative-from-root", "ids.relative",
       "relative ids resolve from the root, not from the requiring module",
       (_RELATIVE_BASE, "var out = [];")),
    _m("relative-from-main", "ids.relative",
       "relative ids resolve against the main module",
       (_RELATIVE_BASE, "var out = isRelative(terms) && fromId ? "
                        "input.main.split('/').slice(0, -1) : [];")),
    _m("relative-from-caller", "ids.relative",
       "relative ids resolve against the module executing now, not where require was written",
       ("var topId = resolveId(id, fromId), record",
        "var topId = resolveId(id, executing || fromId), record"),
       (_RUN_FACTORY, "var outer = executing; executing = topId; try { " + _RUN_FACTORY +
        " } finally { executing = outer; }"),
       ("var ownErrors = new WeakSet();", "var ownErrors = new WeakSet(), executing;")),
    _m("dotdot-ignored", "ids.relative-form",
       "'..' terms are skipped like '.' instead of climbing a level",
       ("if (terms[i] === '..') {", "if (false) {"),
       ("} else if (terms[i] !== '.') {", "} else if (terms[i] !== '.' && terms[i] !== '..') {")),
    _m("dot-kept", "ids.relative-form",
       "'.' terms are kept as directory names instead of meaning the current level",
       ("} else if (terms[i] !== '.') {", "} else {")),
    _m("last-term-only", "ids.terms",
       "only the last term of an id is looked up: slashes do not descend",
       ("(directories[i] + '/' + topId + '.js')",
        "(directories[i] + '/' + topId.split('/').pop() + '.js')")),
    _m("top-level-fallback", "ids.top-level",
       "a top-level id not found at the root is tried relative to the requiring module",
       ("        var path = findModuleFile(topId);\n        if (path === undefined) {\n"
        "            throw fail",
        "        var path = findModuleFile(topId);\n        if (path === undefined && fromId) {\n"
        "            topId = fromId.split('/').slice(0, -1).concat(topId.split('/')).join('/');\n"
        "            record = cache.get(topId);\n"
        "            if (record) { return record.exports; }\n"
        "            path = findModuleFile(topId);\n        }\n        if (path === undefined) {\n"
        "            throw fail")),
    _m("top-level-relative-first", "ids.top-level",
       "a top-level id is looked for beside the requiring module before the root",
       ("var topId = resolveId(id, fromId), record",
        "var topId = resolveId(id, fromId), sibling = !isRelative(splitTerms(id, fromId)) && "
        "fromId && fromId.indexOf('/') > 0 && fromId.split('/').slice(0, -1).concat("
        "topId.split('/')).join('/'); if (sibling && findModuleFile(sibling)) { topId = sibling; }"
        " var record")),
    _m("missing-returns-undefined", "require.missing-throws",
       "require of a missing module returns undefined",
       (_NOT_FOUND, "            return undefined;\n" + _NOT_FOUND)),
    _m("missing-cached", "require.missing-throws",
       "a missing module throws once, then require returns an empty object",
       (_NOT_FOUND, "            cache.set(topId, {exports: {}});\n" + _NOT_FOUND)),
    _m("errors-swallowed", "require.missing-throws",
       "an error thrown by a module's code is swallowed and require returns its partial exports",
       ("            cache.delete(topId);\n            throw error;", "")),
    _m("exports-copied", "require.returns-exports",
       "require returns a copy of the module's exports, not the object it filled",
       ("return loadModule(topId, path).exports;",
        "return Object.assign({}, loadModule(topId, path).exports);")),
    _m("methods-bound", "require.returns-exports",
       "function members of the exports are bound to the exports object",
       (_RUN_FACTORY, _RUN_FACTORY + " Object.keys(record.exports).forEach(function (k) { "
        "if (typeof record.exports[k] === 'function') { record.exports[k] = "
        "record.exports[k].bind(record.exports); } });")),
    _m("cache-plain-object", "require.returns-exports",
       "the module cache is a plain object, so ids like 'toString' hit Object.prototype",
       ("var cache = new Map(),",
        "var cache = {o: {}, get: function (k) { return this.o[k]; }, set: function (k, v) "
        "{ this.o[k] = v; }, delete: function (k) { delete this.o[k]; }},")),
    _m("exports-filled-after-load", "context.exports",
       "the module fills a private object whose members are copied to its exports afterwards",
       (_RUN_FACTORY, "var own = {}; factory.call(own, createRequire(topId), own, record.module);"
        " Object.assign(record.exports, own);")),
    _m("shared-exports", "context.exports",
       "one exports object is shared by every module",
       (_NEW_RECORD, "var record = {module: createModuleObject(topId, path), exports: "
                     "files.shared || (files.shared = {})};")),
    _m("global-require", "context.require",
       "require is one global, rebound to each module as it loads, not a free variable",
       (_WRAPPER, "'(function (_, exports, module) {' + code + '\\n})'"),
       (_RUN_FACTORY, "global.require = createRequire(topId); " + _RUN_FACTORY)),
    _m("global-module", "context.module",
       "module is one global, rebound to each module as it loads, not a free variable",
       (_WRAPPER, "'(function (require, exports, _) {' + code + '\\n})'"),
       (_RUN_FACTORY, "global.module = record.module; " + _RUN_FACTORY)),
    _m("top-scope-shared", "modules.private-scope",
       "top-level var declarations lose their var, as where module sources are pasted into "
       "one scope: the variables are globals shared by every module",
       (_WRAPPER, "'(function (require, exports, module) {' + code.replace(/^var /gm, '') + "
                  "'\\n})'")),
    _m("id-is-path", "module.id.top-level",
       "module.id is the module's file path, not its top-level id",
       (_DEFINE_ID, "defineReadOnly(module, 'id', path);")),
    _m("id-writable", "module.id.read-only",
       "module.id can be reassigned and deleted",
       (_DEFINE_ID, "module.id = topId;")),
    _m("main-writable", "require.main.read-only",
       "require.main can be reassigned and deleted",
       (_DEFINE_MAIN, "require.main = mainModule;")),
    _m("paths-per-module", "require.paths.identity",
       "each module's require.paths is a copy of its own",
       (_DEFINE_PATHS, "defineProperty(require, 'paths', {value: paths.slice(), "
                       "enumerable: true});")),
    _m("paths-ignored", "require.paths.in-place",
       "changes to require.paths are ignored: lookups always use the initial directories",
       ("return sandbox ? [root] : paths;", "return [root];")),
    _m("paths-not-strings", "require.paths.optional",
       "require.paths holds objects wrapping the directories, not Strings",
       ("paths = [root], mainModule;", "paths = [new String(root)], mainModule;"),
       ("var path = typeof directories[i] === 'string' &&",
        "var path = directories[i] != null &&")),
    _m("paths-in-sandbox", "require.paths.sandbox",
       "a sandbox still gives require a paths property",
       ("        if (!sandbox) {\n            " + _DEFINE_PATHS,
        "        if (true) {\n            " + _DEFINE_PATHS), sandbox=True),
    _m("uri-in-sandbox", "module.uri.sandbox",
       "a sandbox still gives module a uri property",
       ("        if (!sandbox) {\n            " + _DEFINE_URI,
        "        if (true) {\n            " + _DEFINE_URI), sandbox=True),
    _m("uri-is-path", "module.uri.optional",
       "module.uri is a bare file path, not a full URI",
       (_DEFINE_URI, "defineReadOnly(module, 'uri', path);")),

    # ---- Module sources at the edges. Require 1.2: "require returns the exported API of the
    # foreign module" -- of every module, whatever its source looks like.
    _m("no-newline-before-close", "require.returns-exports",
       "the wrapper closes the module's function right after its source, so a source whose last "
       "line is a // comment comments the closing '})' out (browserify#209, duktape#1394, "
       "node-sandboxed-module#37); Require 1.2: 'require returns the exported API of the "
       "foreign module'",
       (_WRAPPER, "'(function (require, exports, module) {' + code + '})'")),
    _m("wrapper-by-replace", "require.returns-exports",
       "the wrapper is a template filled with String.prototype.replace, so $$, $&, $` and $' in "
       "a module's source are replaced too (gulp-replace#28, jsbin#598); Require 1.2: 'require "
       "returns the exported API of the foreign module'",
       (_WRAPPER, "'(function (require, exports, module) {@CODE@\\n})'.replace('@CODE@', code)")),
    _m("empty-source-missing", "require.returns-exports",
       "a module file whose source is the empty String is reported missing (a falsy check of "
       "the text read); Require 1.2: 'require returns the exported API of the foreign module'",
       ("        var path = findModuleFile(topId);\n        if (path === undefined) {",
        "        var path = findModuleFile(topId);\n        if (path === undefined || "
        "!files.get(path)) {")),
    _m("source-truncated", "require.returns-exports",
       "module sources are read into an 8 KiB buffer, so a longer module runs cut short (the "
       "precompiled harness is spared); Require 1.2: 'require returns the exported API of the "
       "foreign module'",
       ("globalEval(wrapModule(files.get(path)))",
        "globalEval(wrapModule(files.get(path).slice(0, 8192)))")),
    _m("prescan-hoists-dependencies", "require.cycles",
       "as RequireJS's CommonJS sugar does, the source is scanned for require('...') calls and "
       "those modules run (failures ignored) before the module's own code, so in a cycle a "
       "dependency runs before the exports it should see were prepared; Require 1.3: 'the "
       "object returned by require must contain at least the exports that the foreign module "
       "has prepared before the call to require that led to the current module's execution'",
       (_RUN_FACTORY, "(files.get(path).match(/require\\(\\s*['\"][^'\"]+['\"]\\s*\\)/g) || [])"
        ".forEach(function (call) { try { requireModule(call.replace("
        "/^require\\(\\s*['\"]|['\"]\\s*\\)$/g, ''), topId); } catch (e) {} }); " + _RUN_FACTORY)),
    _m("static-ids-only", "require.accepts-id",
       "as a bundler does, only ids written as string literals in some require('...') call are "
       "available; an id computed at run time that no literal names is 'not found' "
       "(browserify#377, #824); Require 1.1: 'The require function accepts a module "
       "identifier'",
       ("var ownErrors = new WeakSet();", "var ownErrors = new WeakSet(), bundled = new Set();"),
       ("    function runMain() {\n",
        "    function runMain() {\n        files.forEach(function (source, file) { "
        "var from = file.slice(root.length + 1, -3); (source.match("
        "/require\\(\\s*['\"][^'\"]+['\"]\\s*\\)/g) || []).forEach(function (call) { try { "
        "bundled.add(resolveId(call.replace(/^require\\(\\s*['\"]|['\"]\\s*\\)$/g, ''), from)); "
        "} catch (e) {} }); });\n"),
       ("        var path = findModuleFile(topId);\n",
        "        var path = bundled.has(topId) ? findModuleFile(topId) : undefined;\n")),

    # ---- The full range of legal terms. Module Identifiers 1-2: "A module identifier is a
    # String of "terms" delimited by forward slashes." "A term must be a camelCase identifier,
    # ".", or ".."."
    _m("term-digits-rejected", "require.accepts-id",
       "ids are checked against a letters-only pattern, so a camelCase term with digits "
       "('base64', 'utf8') is refused; Require 1.1: 'The require function accepts a module "
       "identifier', and Module Identifiers 2: 'A term must be a camelCase identifier'",
       ("var terms = id.split('/');",
        "var terms = id.split('/'); if (terms.some(function (term) { return "
        "!/^(\\.\\.?|[A-Za-z_$]+)$/.test(term); })) { throw fail(\"module id '\" + id + "
        "\"' has a term that is not a camelCase identifier\", fromId); }")),
    _m("js-suffix-regex-unescaped", "require.accepts-id",
       "a '.js' the author should not have written is stripped with /.js$/, whose unescaped dot "
       "also eats the end of a term like 'nodejs'; Require 1.1: 'The require function accepts "
       "a module identifier'",
       ("var terms = splitTerms(id, fromId);",
        "var terms = splitTerms(typeof id === 'string' ? id.replace(/.js$/, '') : id, fromId);")),
    _m("index-term-collapsed", "ids.terms",
       "a last term 'index' is dropped, as Node and browserify fold 'lib/index' into 'lib', so "
       "'lib/index' names the module 'lib'; Module Identifiers 1: 'A module identifier is a "
       "String of \"terms\" delimited by forward slashes', and Require 1.2: 'require returns "
       "the exported API of the foreign module'",
       ("        return out.join('/');\n", "        return out.join('/').replace(/\\/index$/, '');\n")),
    _m("dotdot-climbs-once", "ids.relative-form",
       "only the first leading '..' climbs a level ('../../x' from 'a/b/c' names 'a/x'), as a "
       "resolver that strips one '../' prefix does; Module Identifiers 4: 'A module identifier "
       "is \"relative\" if the first term is \".\" or \"..\"', each '..' a level up",
       ("                out.pop();", "                if (i === terms.indexOf('..')) { "
        "out.pop(); }")),
    _m("cache-by-written-id", "ids.relative",
       "modules are also cached under the id as written, so './helper' written in two "
       "directories gives the first one's module to both (stitch#23); Module Identifiers 6: "
       "'Relative identifiers are resolved relative to the identifier of the module in which "
       "require is written and called'",
       ("var topId = resolveId(id, fromId), record = cache.get(topId);",
        "var topId = resolveId(id, fromId), record = cache.get(id) || cache.get(topId);"),
       ("return loadModule(topId, path).exports;",
        "record = loadModule(topId, path); cache.set(id, record); return record.exports;")),

    # ---- Many modules in one program.
    _m("cache-key-checksum", "require.returns-exports",
       "the module cache is keyed by a checksum of the id (the sum of its character codes), so "
       "anagram ids share one entry; Require 1.2: 'require returns the exported API of the "
       "foreign module'",
       ("var cache = new Map(),",
        "var cache = {m: new Map(), key: function (k) { var n = 0; for (var i = 0; i < k.length; "
        "i++) { n += k.charCodeAt(i); } return n; }, get: function (k) { return "
        "this.m.get(this.key(k)); }, set: function (k, v) { this.m.set(this.key(k), v); }, "
        "delete: function (k) { this.m.delete(this.key(k)); }},")),
    _m("cache-bounded", "modules.singleton",
       "the module cache keeps the 32 most recently loaded modules and forgets older ones, which "
       "then run again; Preamble: 'facility for importing singleton objects from other modules'",
       (_CACHE_FILL, "        cache.set(topId, record);\n        if (cache.size > 32) { "
                     "cache.delete(cache.keys().next().value); }\n        try {")),
    _m("depth-limited", "require.returns-exports",
       "a chain of requires nested more than 24 modules deep throws, as loaders that guard "
       "against cycles with a depth limit do; Require 1.2: 'require returns the exported API of "
       "the foreign module'",
       ("var ownErrors = new WeakSet();", "var ownErrors = new WeakSet(), depth = 0;"),
       (_RUN_FACTORY, "if (depth >= 24) { throw fail('require chain deeper than 24 modules', "
                      "topId); } depth++; try { " + _RUN_FACTORY + " } finally { depth--; }")),
    _m("cycle-throws", "require.cycles",
       "requiring a module that has not finished loading throws 'circular dependency' "
       "(commonjs-everywhere#23); Require 1.3: 'the object returned by require must contain at "
       "least the exports that the foreign module has prepared before the call to require that "
       "led to the current module's execution'",
       (_CACHE_LOOKUP, "record = cache.get(topId); if (record && !record.done) { throw "
                       "fail(\"circular dependency on '\" + topId + \"'\", fromId); }"),
       (_RUN_FACTORY, _RUN_FACTORY + " record.done = true;")),

    # ---- Missing modules. Require 1.4: "If the requested module cannot be returned, require
    # must throw an error."
    _m("missing-falls-back-to-parent", "require.missing-throws",
       "an id not found is retried without its last term, so 'kit/absent' runs the module 'kit' "
       "anew as if it were the one asked for; Require 1.4: 'If the requested module cannot be "
       "returned, require must throw an error'",
       ("        var path = findModuleFile(topId);\n",
        "        var path = findModuleFile(topId) || (topId.indexOf('/') > 0 ? findModuleFile("
        "topId.split('/').slice(0, -1).join('/')) : undefined);\n")),
    _m("missing-lazy-proxy", "require.missing-throws",
       "require of a missing module returns a lazy stand-in that throws only when a member is "
       "read; Require 1.4: 'If the requested module cannot be returned, require must throw an "
       "error'",
       (_NOT_FOUND, "            return new Proxy({}, {get: function () { throw fail(\"cannot "
                    "find module '\" + topId + \"'\", fromId); }});\n" + _NOT_FOUND)),

    # ---- require.paths search. Require 1.6.4: "If the paths attribute exists, in-place
    # modification of the contents of paths must be reflected by corresponding module search
    # behavior." (1.6: "a prioritized Array of path Strings, from high to low".)
    _m("paths-captured-per-module", "require.paths.in-place",
       "each require searches a copy of require.paths taken when its module was created (as "
       "Node computes module.paths per module), so a directory pushed later is not searched by "
       "modules that already exist; Require 1.6.4: 'in-place modification of the contents of "
       "paths must be reflected by corresponding module search behavior'",
       ("            return requireModule(id, fromId);",
        "            return requireModule(id, fromId, seen);"),
       ("        var require = function require(id) {",
        "        var seen = paths.slice(), require = function require(id) {"),
       ("    function requireModule(id, fromId) {", "    function requireModule(id, fromId, seen) {"),
       ("        var path = findModuleFile(topId);\n", "        var path = findModuleFile(topId, seen);\n"),
       ("    function findModuleFile(topId) {\n        var directories = searchDirectories();",
        "    function findModuleFile(topId, seen) {\n        var directories = seen || "
        "searchDirectories();")),
    _m("paths-searched-low-to-high", "require.paths.in-place",
       "require.paths is searched from its last entry to its first; Require 1.6: 'a prioritized "
       "Array of path Strings, from high to low', and 1.6.4: 'in-place modification of the "
       "contents of paths must be reflected by corresponding module search behavior'",
       ("return sandbox ? [root] : paths;", "return sandbox ? [root] : paths.slice().reverse();")),
    _m("paths-misses-remembered", "require.paths.in-place",
       "a top-level id once not found is remembered as missing, so a directory pushed afterwards "
       "is never searched for it (a negative lookup cache); Require 1.6.4: 'in-place "
       "modification of the contents of paths must be reflected by corresponding module search "
       "behavior'",
       ("var ownErrors = new WeakSet();", "var ownErrors = new WeakSet(), missing = new Set();"),
       ("        var path = findModuleFile(topId);\n",
        "        var path = missing.has(topId) ? undefined : findModuleFile(topId);\n"
        "        if (path === undefined) { missing.add(topId); }\n")),
    _m("paths-push-only-observed", "require.paths.in-place",
       "the loader searches a list of its own that it updates from a patched push; unshift, "
       "splice and index assignment go unseen; Require 1.6.4: 'in-place modification of the "
       "contents of paths must be reflected by corresponding module search behavior'",
       ("var cache = new Map(), paths = [root], mainModule;",
        "var cache = new Map(), paths = [root], searched = [root], mainModule; "
        "Object.defineProperty(paths, 'push', {value: function () { "
        "Array.prototype.push.apply(searched, arguments); "
        "return Array.prototype.push.apply(paths, arguments); }});"),
       ("return sandbox ? [root] : paths;", "return sandbox ? [root] : searched;")),
    _m("paths-multi-term-root-only", "require.paths.in-place",
       "entries of require.paths are searched only for one-term ids; an id with slashes is "
       "looked for at the root alone; Require 1.6.4: 'in-place modification of the contents of "
       "paths must be reflected by corresponding module search behavior'",
       ("        var directories = searchDirectories();",
        "        var directories = topId.indexOf('/') < 0 ? searchDirectories() : [root];")),
    _m("paths-entry-needs-slash", "require.paths.in-place",
       "entries are joined to the id without a separator, so only entries ending in '/' (as the "
       "loader's own does) work and a pushed directory '/x/extra' is searched as '/x/extraid.js'; "
       "Require 1.6.4: 'in-place modification of the contents of paths must be reflected by "
       "corresponding module search behavior'",
       ("paths = [root], mainModule;", "paths = [root + '/'], mainModule;"),
       ("(directories[i] + '/' + topId + '.js').replace(/\\/\\/+/g, '/')",
        "(directories[i] + topId + '.js')")),

    # ---- Features present in some modules and not others.
    _m("paths-only-in-main", "require.paths.identity",
       "only the main module's require has a paths property; Require 1.6.2: "
       "'The paths attribute must be referentially identical in all modules'",
       (_PATHS_IN_CREATE_REQUIRE, "        if (!sandbox && fromId === input.main) {\n            "
                                  + _DEFINE_PATHS)),
    _m("main-copy", "require.main.identity",
       "require.main is a frozen copy of the main module's module object, the same copy in "
       "every module (ShadowNode#448); Require 1.5.2: 'The main property must either be "
       "undefined or be identical to the module object in the context of one loaded module'",
       ("var ownErrors = new WeakSet();", "var ownErrors = new WeakSet(), mainCopy;"),
       (_DEFINE_MAIN, "defineReadOnly(require, 'main', mainCopy || (mainCopy = "
                      "Object.freeze(Object.assign({}, mainModule))));")),
    _m("main-id-dot", "module.id.top-level",
       "the main module's module.id is '.', as in Node; Module Context 3.1: 'The module object "
       "must have a id property that is the top-level id of the module. The id property must "
       "be such that require(module.id) will return the exports object from which the "
       "module.id originated'",
       (_DEFINE_ID, "defineReadOnly(module, 'id', mainModule ? topId : '.');")),
    _m("id-as-requested", "module.id.top-level",
       "module.id is the id as written in the require call that first loaded the module "
       "('./helper'), not its top-level id; Module Context 3.1: 'The module object must have a "
       "id property that is the top-level id of the module'",
       ("return loadModule(topId, path).exports;", "return loadModule(topId, path, id).exports;"),
       ("    function loadModule(topId, path) {\n        " + _NEW_RECORD,
        "    function loadModule(topId, path, asked) {\n        var record = {module: "
        "createModuleObject(asked || topId, path), exports: {}};")),
    _m("id-writable-in-required", "module.id.read-only",
       "only the main module's module.id is read-only; in every other module it is a plain "
       "property (SHOULD); Module Context 3.1: 'When feasible this property should be "
       "read-only, don't delete'",
       (_DEFINE_ID, "if (mainModule) { module.id = topId; } else { "
                    "defineReadOnly(module, 'id', topId); }")),
    _m("main-writable-in-required", "require.main.read-only",
       "only the main module's require.main is read-only; other modules' is a plain property "
       "(SHOULD); Require 1.5.1: 'This attribute, when feasible, should be read-only, don't "
       "delete'",
       (_DEFINE_MAIN, "if (fromId === input.main) { defineReadOnly(require, 'main', mainModule); "
                      "} else { require.main = mainModule; }")),
    _m("uri-in-sandbox-required", "module.uri.sandbox",
       "a sandbox leaves uri out of the main module's module object only; Module Context 3.2: "
       "'The uri property must not exist in a sandbox'",
       (_URI_IN_CREATE_MODULE, "        if (!sandbox || mainModule) {\n            " + _DEFINE_URI),
       sandbox=True),
    _m("paths-in-sandbox-required", "require.paths.sandbox",
       "a sandbox leaves paths off the main module's require only; Require 1.6.1: 'The paths "
       "property must not exist in \"sandbox\" (a secured module system)'",
       (_PATHS_IN_CREATE_REQUIRE, "        if (!sandbox || fromId !== input.main) {\n            "
                                  + _DEFINE_PATHS),
       sandbox=True),
    _m("exports-missing-in-main", "context.exports",
       "the main module runs as a script without an exports object (exports is undefined "
       "there); Module Context 2: 'In a module, there is a free variable called exports, that "
       "is an object that the module may add its API to as it executes'",
       (_RUN_FACTORY, "factory.call(record.exports, createRequire(topId), record.module === "
                      "mainModule ? undefined : record.exports, record.module);")),
    _m("module-missing-in-main", "context.module",
       "the main module runs without a module object (module is undefined there); Module "
       "Context 3: 'In a module, there must be a free variable module, that is an Object'",
       (_RUN_FACTORY, "factory.call(record.exports, createRequire(topId), record.exports, "
                      "record.module === mainModule ? undefined : record.module);")),
)

CONFORMING: tuple[Mutant, ...] = (
    _m("paths-unlisted-root", None,
       "require.paths starts empty and the root, searched after every listed entry, is not "
       "listed; no module.uri",
       ("paths = [root], mainModule;", "paths = [], mainModule;"),
       ("return sandbox ? [root] : paths;", "return sandbox ? [root] : paths.concat([root]);"),
       (_URI_IN_CREATE_MODULE, "        if (false) {\n            " + _DEFINE_URI)),
    _m("main-per-module", None,
       "require.main is the module object of the module that owns the require (1.1.1, Require "
       "1.5.2: 'must either be undefined or be identical to the module object in the context of "
       "one loaded module' -- each module's is one loaded module's)",
       (_DEFINE_MAIN, "defineReadOnly(require, 'main', cache.get(fromId).module);"),
       versions=("1.1.1",)),  # Modules/1.1 asks for the main program's module everywhere
    _m("paths-canonical", None,
       "require.paths entries are canonicalized with a trailing slash",
       ("paths = [root], mainModule;", "paths = [root + '/'], mainModule;")),
    _m("no-main", None, "require.main is undefined",
       (_DEFINE_MAIN, "defineReadOnly(require, 'main', undefined);")),
    _m("no-paths-no-uri", None, "not a sandbox, yet without require.paths and module.uri",
       (_PATHS_IN_CREATE_REQUIRE, "        if (false) {\n            " + _DEFINE_PATHS),
       (_URI_IN_CREATE_MODULE, "        if (false) {\n            " + _DEFINE_URI)),
    _m("this-undefined", None, "module code runs with this undefined, not the exports",
       (_RUN_FACTORY, _RUN_FACTORY.replace("factory.call(record.exports,",
                                           "factory.call(undefined,"))),
    _m("failed-module-kept", None,
       "a module whose code threw stays in the cache with its partial exports",
       ("            cache.delete(topId);\n            throw error;", "            throw error;")),
    _m("module-exports", None, "module.exports is the exports object, as an extension",
       (_NEW_RECORD, _NEW_RECORD + " record.module.exports = record.exports;")),
    _m("string-errors", None, "require throws Strings, not Error objects",
       ("        ownErrors.add(error);\n        return error;", "        return error.message;")),
    _m("paths-root-searched-after", None,
       "after the listed entries the loader always searches the root, listed or not (Require "
       "1.6.5: 'it may not be an exhaustive list of search paths, as the loader may internally "
       "look in other locations before or after the mentioned paths')",
       ("return sandbox ? [root] : paths;", "return sandbox ? [root] : paths.concat([root]);")),
    _m("paths-root-searched-first", None,
       "the loader searches the root before every listed entry, even one put in front with "
       "unshift (Require 1.6.5: 'the loader may internally look in other locations before or "
       "after the mentioned paths')",
       ("return sandbox ? [root] : paths;", "return sandbox ? [root] : [root].concat(paths);")),
    _m("paths-rewritten-in-place", None,
       "at each lookup the loader canonicalizes the entries of require.paths in place, ending "
       "each with '/' (Require 1.6.6: 'it is the loader's prorogative to resolve, normalize, or "
       "canonicalize the paths provided')",
       ("return sandbox ? [root] : paths;",
        "if (!sandbox) { for (var k = 0; k < paths.length; k++) { if (typeof paths[k] === "
        "'string' && paths[k].slice(-1) !== '/') { paths[k] += '/'; } } } "
        "return sandbox ? [root] : paths;")),
    _m("node-like-extras", None,
       "module objects carry Node's extra members (filename, loaded, children, parent) and "
       "require has resolve and cache; the spec sets a minimum, not a maximum",
       (_URI_IN_CREATE_MODULE, "        module.filename = path; module.loaded = false; "
                               "module.children = []; module.parent = null;\n" +
        _URI_IN_CREATE_MODULE),
       (_DEFINE_MAIN, _DEFINE_MAIN + " require.cache = {}; require.resolve = function (id) { "
                      "return resolveId(id, fromId); };")),
    _m("exports-null-prototype", None,
       "each exports object is created with Object.create(null), an object with no prototype "
       "(Module Context 2 asks only for 'an object that the module may add its API to')",
       (_NEW_RECORD, "var record = {module: createModuleObject(topId, path), exports: "
                     "Object.create(null)};")),
    _m("module-frozen", None,
       "module objects are frozen once their members are defined (Module Context 3 asks for "
       "an Object with an id and, outside a sandbox, maybe a uri)",
       ("            defineReadOnly(module, 'uri', fileUri(path));\n        }\n        return module;",
        "            defineReadOnly(module, 'uri', fileUri(path));\n        }\n        "
        "return Object.freeze(module);")),
    _m("main-only-in-main", None,
       "require.main is the main module's module object in the main module and undefined in "
       "every other (1.1.1, Require 1.5.2: 'must either be undefined or be identical to the "
       "module object in the context of one loaded module', read per module)",
       (_DEFINE_MAIN, "defineReadOnly(require, 'main', fromId === input.main ? mainModule : "
                      "undefined);"),
       versions=("1.1.1",)),
    _m("errors-wrapped", None,
       "when a module's code throws, require throws a new Error naming the module, the "
       "original as its cause (Require 1.4 asks only that require 'must throw an error')",
       ("            cache.delete(topId);\n            throw error;",
        "            cache.delete(topId);\n            if (ownErrors.has(error)) { throw error; }"
        "\n            var wrapped = fail(\"module '\" + topId + \"' threw: \" + "
        "describeUncaught(error), null); wrapped.cause = error; throw wrapped;")),
)

# ---- The node profile (docs/node-profile.md, "Mutant ideas"): edits of node-loader.js, each
# breaking one clause of conformance/data/node-clauses.yaml; judged by the profile's cases.

_N_EXTENSIONS = "var extensions = ['.js', '.json'];"
_N_LOAD_AS_FILE = "        return tryFile(path) || tryExtensions(path);"
_N_LOAD_INDEX = "        return tryExtensions(resolvePath(path, 'index'));"
_N_PACKAGE_MAIN = "        return typeof main === 'string' && main ? main : undefined;"
_N_BAD_PACKAGE = ("            error.message = 'Error parsing ' + file + ': ' + error.message;\n"
                  "            throw error;")
_N_MAIN_TARGET = "        return loadAsFile(target) || loadIndex(target);"
_N_RELATIVE_BASE = "            return [dirname(parent.filename)];"
_N_BARE_PATHS = "        var paths = parent && parent.paths;"
_N_PATHS_COPY = "        return paths && paths.length ? Array.prototype.slice.call(paths) : [];"
_N_FILE_OR_DIRECTORY = ("            var found = (!namesDirectoryOnly(request) && loadAsFile(path)) ||\n"
                        "                (isDirectory(path) && loadAsDirectory(path, request));")
_N_AS_FILE = "(!namesDirectoryOnly(request) && loadAsFile(path))"
_N_MODULE_REQUIRE = "        return loadModule(id, this, false);"
_N_RESOLVE = "            return resolveFilename(request, module);"
_N_CACHE_DECLARED = "    var cache = Object.create(null); // require.cache: module objects by filename"
_N_CACHE_LOOKUP = "cached = cache[filename];"
_N_CACHE_FILL = "        cache[filename] = module;"
_N_CACHE_FORGET = "        delete cache[filename];"
_N_CACHE_HIT = "            addChild(parent, cached, true);"
_N_RETURN_CACHED = "            return cached.exports;"
_N_RETURN_LOADED = "        return module.exports;\n    }"
_N_FORMAT = "        return extension === '.json' || extension === '.node' ? extension : '.js';"
_N_WRAPPER = ("        return '(function (exports, require, module, __filename, __dirname) {' + code + "
              "'\\n})';")
_N_FACTORY = "        var factory = compiled[filename] || globalEval(wrapModule(files[filename]));"
_N_CALL = ("        callFunction(factory, exports, exports, createRequire(module), module, filename,\n"
           "                     dirname(filename));")


def _n(name, clause, description, *edits) -> Mutant:
    return _m(name, clause, description, *edits, profile="node")


NODE_MUTANTS: tuple[Mutant, ...] = (
    # ---- LOAD_AS_FILE and the format of the file found
    _n("node-json-before-js", "node.lookup.extensions",
       "LOAD_AS_FILE tries X.json before X.js",
       (_N_LOAD_AS_FILE, "        return tryFile(path) || tryFile(path + '.json') || "
                         "tryExtensions(path);")),
    _n("node-no-json-extension", "node.lookup.extensions",
       "LOAD_AS_FILE never appends .json (only .js)",
       (_N_LOAD_AS_FILE, "        return tryFile(path) || tryFile(path + '.js');")),
    _n("node-extension-before-exact", "node.lookup.exact",
       "LOAD_AS_FILE tries X.js and X.json before X itself",
       (_N_LOAD_AS_FILE, "        return tryExtensions(path) || tryFile(path);")),
    _n("node-no-extension-is-json", "node.lookup.format",
       "a file found with no extension, or one other than .js, is parsed as JSON",
       (_N_FORMAT, "        return extension === '.js' || extension === '.node' ? extension : "
                   "'.json';")),
    _n("node-directory-before-file", "node.lookup.file-before-directory",
       "X is tried as a directory (LOAD_AS_DIRECTORY) before as a file (LOAD_AS_FILE)",
       (_N_FILE_OR_DIRECTORY,
        "            var found = (isDirectory(path) && loadAsDirectory(path, request)) ||\n"
        "                (!namesDirectoryOnly(request) && loadAsFile(path));")),

    # ---- LOAD_AS_DIRECTORY and LOAD_INDEX
    _n("node-main-ignored", "node.directory.main",
       "package.json is never read: a directory always loads its index",
       ("        var main = packageMain(path);", "        var main = undefined;")),
    _n("node-main-exact-only", "node.directory.main",
       "\"main\" is tried only as an exact file: no .js/.json completion, no index of a "
       "directory it names",
       (_N_MAIN_TARGET, "        return tryFile(target);")),
    _n("node-main-from-requirer", "node.directory.main",
       "\"main\" is taken relative to the requiring file's directory, not the package's",
       ("        var target = resolvePath(path, main);",
        "        var target = resolvePath(requirerDirectory, main);"),
       ("        var filename = resolveFilename(request, parent), cached",
        "        requirerDirectory = parent ? dirname(parent.filename) : root;\n"
        "        var filename = resolveFilename(request, parent), cached"),
       ("    var mainModule;\n", "    var mainModule, requirerDirectory;\n")),
    _n("node-index-json-first", "node.directory.index",
       "LOAD_INDEX tries index.json before index.js",
       (_N_LOAD_INDEX, "        return tryFile(resolvePath(path, 'index.json')) || "
                       "tryExtensions(resolvePath(path, 'index'));")),
    _n("node-index-js-only", "node.directory.index",
       "LOAD_INDEX tries index.js alone, never index.json",
       (_N_LOAD_INDEX, "        return tryFile(resolvePath(path, 'index.js'));")),
    _n("node-falsy-main-throws", "node.directory.index",
       "a package.json whose \"main\" is the empty string makes the directory missing instead "
       "of loading its index",
       (_N_PACKAGE_MAIN, "        if (main === '') {\n"
                         "            throw codedError(Error, \"Cannot find module '\" + path + "
                         "\"'\", 'MODULE_NOT_FOUND');\n        }\n" + _N_PACKAGE_MAIN)),
    _n("node-no-main-fallback", "node.directory.main-fallback",
       "a \"main\" that resolves to nothing throws without trying the directory's index "
       "(LOAD_AS_DIRECTORY 1f left out; deprecated, so a warning)",
       ("        var found = loadIndex(path);", "        var found = false;")),
    _n("node-bad-main-walks-on", "node.directory.main-unresolvable",
       "a package found in node_modules whose \"main\" and index are both missing is skipped, "
       "and the search goes on to farther node_modules directories (step 1g left out)",
       ("        if (!found) {",
        "        if (!found && (isRelativeRequest(request) || isAbsoluteRequest(request))) {")),

    # ---- LOAD_NODE_MODULES and NODE_MODULES_PATHS
    _n("node-no-walk-up", "node.modules.walk-up",
       "a bare name is looked for only in the requirer's own node_modules, never in its "
       "parents'",
       (_N_PATHS_COPY, "        return paths && paths.length ? [paths[0]] : [];")),
    _n("node-modules-from-main", "node.modules.requirer-dir",
       "the node_modules search starts at the entry module's directory, whoever requires",
       (_N_BARE_PATHS, "        var paths = mainModule && mainModule.paths;")),
    _n("node-farthest-first", "node.modules.nearest-first",
       "NODE_MODULES_PATHS puts the root first (step 4c, DIRS = DIR + DIRS, read literally)",
       ("                paths.push(directory === '/' ? '/node_modules' : directory + "
        "'/node_modules');",
        "                paths.unshift(directory === '/' ? '/node_modules' : directory + "
        "'/node_modules');")),
    _n("node-double-node-modules", "node.modules.no-double",
       "NODE_MODULES_PATHS appends node_modules to directories named node_modules too",
       ("            if (basename(directory) !== 'node_modules') {", "            if (true) {")),
    _n("node-modules-directories-only", "node.modules.file-or-directory",
       "in a node_modules directory a bare name X is tried only as a directory, so "
       "node_modules/x.js is never found",
       (_N_AS_FILE, "(!namesDirectoryOnly(request) && !(!isRelativeRequest(request) && "
                    "!isAbsoluteRequest(request) && request.indexOf('/') < 0) && "
                    "loadAsFile(path))")),
    _n("node-subpath-exact-only", "node.modules.subpath",
       "in pkg/sub the subpath is tried only as an exact file: no extension, package.json "
       "\"main\" or index",
       (_N_FILE_OR_DIRECTORY,
        "            var subpath = !isRelativeRequest(request) && !isAbsoluteRequest(request) "
        "&& request.indexOf('/') > 0;\n"
        "            var found = (!namesDirectoryOnly(request) && (subpath ? tryFile(path) : "
        "loadAsFile(path))) ||\n"
        "                (!subpath && isDirectory(path) && loadAsDirectory(path, request));")),
    _n("node-subpath-top-only", "node.modules.subpath",
       "pkg/sub is looked up as a whole name in the case root's node_modules alone, as in one "
       "top-level search directory, not in the package found nearest",
       (_N_PATHS_COPY, "        return paths && paths.length ? Array.prototype.slice.call(paths)"
                       ".filter(function (each) { return request.indexOf('/') < 0 || "
                       "each === root + '/node_modules'; }) : [];")),

    # ---- specifiers
    _n("node-bare-as-relative", "node.specifier.bare",
       "a bare name is looked for beside the requiring file before any node_modules",
       (_N_BARE_PATHS, "        var paths = parent && [dirname(parent.filename)]"
                       ".concat(parent.paths);")),
    _n("node-relative-from-root", "node.specifier.relative",
       "./ and ../ resolve against the case root (the working directory), not the requiring "
       "file's directory",
       (_N_RELATIVE_BASE, "            return [root];")),
    _n("node-absolute-as-relative", "node.specifier.absolute",
       "a specifier beginning with / is resolved under the requiring file's directory",
       ("            return ['/'];", "            return [parent ? dirname(parent.filename) : "
                                     "'/'];"),
       ("            var path = resolvePath(paths[i], request);",
        "            var path = resolvePath(paths[i], isAbsoluteRequest(request) ? "
        "request.slice(1) : request);")),
    _n("node-dot-unsupported", "node.specifier.dot",
       "'.' alone is no relative specifier: it is looked for as a bare name",
       ("            (request.length === 1 || request.charAt(1) === '.' || "
        "request.charAt(1) === '/');",
        "            (request.charAt(1) === '.' || request.charAt(1) === '/');")),

    # ---- module.exports and exports
    _n("node-module-exports-ignored", "node.exports.replace",
       "a value assigned to module.exports is dropped once the module's code has run: require "
       "returns the exports object the module started with",
       (_N_CALL, _N_CALL + "\n        module.exports = exports;")),
    # The harness helper fills its exports through `exports`: it is spared (as the program
    # could not start otherwise, and a blocked case catches nothing).
    _n("node-exports-fresh-object", "node.exports.shortcut",
       "the exports variable is an object of its own, not module.exports (the precompiled "
       "harness helper is spared)",
       (_N_FACTORY, "        var spared = filename in compiled;\n" + _N_FACTORY),
       ("callFunction(factory, exports, exports, createRequire(module)",
        "callFunction(factory, exports, spared ? exports : {}, createRequire(module)")),
    _n("node-exports-assignment-exports", "node.exports.rebind-local",
       "a module that assigns its exports variable exports the new value: a trailer the "
       "wrapper appends reads the variable back into module.exports",
       (_N_WRAPPER, "        return '(function (exports, require, module, __filename, __dirname) {"
                    "' + code + '\\n;module.ccLocalExports = exports;})';"),
       (_N_CALL, _N_CALL + "\n        if ('ccLocalExports' in module && module.ccLocalExports !== "
                 "exports) {\n            module.exports = module.ccLocalExports;\n        }")),

    # ---- cycles
    _n("node-cycle-fresh-object", "node.cycles.partial",
       "requiring a module that is still running returns a new empty object",
       (_N_RETURN_CACHED, "            return cached.loaded ? cached.exports : {};")),
    _n("node-cycle-initial-exports", "node.cycles.replaced-before",
       "requiring a module that is still running returns the exports object it started with, "
       "not the value module.exports holds now",
       ("        this.exports = {};",
        "        this.exports = {};\n        defineProperty(this, 'initial', {value: "
        "this.exports});"),
       (_N_RETURN_CACHED, "            return cached.loaded || !('initial' in cached) ? "
                          "cached.exports : cached.initial;")),
    _n("node-result-snapshot", "node.cycles.replaced-after",
       "the first value a module's require returned (in a cycle, while it ran) is kept for "
       "every later require, not the module.exports it finished with",
       (_N_RETURN_CACHED, "            if (!cached.loaded && !('snapshot' in cached)) {\n"
                          "                defineProperty(cached, 'snapshot', {value: "
                          "cached.exports});\n            }\n"
                          "            return 'snapshot' in cached ? cached.snapshot : "
                          "cached.exports;"),
       (_N_RETURN_LOADED, "        return 'snapshot' in module ? module.snapshot : "
                          "module.exports;\n    }")),

    # ---- require.cache
    _n("node-cache-by-specifier", "node.cache.same-file",
       "modules are looked up by the specifier as written (relative ones joined to the "
       "requirer's directory, before any completion), so one file spelled two ways loads twice",
       (_N_CACHE_DECLARED, _N_CACHE_DECLARED + "\n    var spelled = Object.create(null);"),
       ("        var filename = resolveFilename(request, parent), cached = cache[filename];",
        "        var filename = resolveFilename(request, parent);\n"
        "        var key = (isRelativeRequest(request) || isAbsoluteRequest(request)) && parent ? "
        "resolvePath(dirname(parent.filename), request) : request;\n"
        "        var cached = spelled[key] !== undefined && spelled[key] === cache[filename] ? "
        "cache[filename] : undefined;"),
       (_N_CACHE_FILL, "        cache[filename] = spelled[key] = module;")),
    _n("node-rerun-on-require", "node.cache.run-once",
       "a JavaScript module's code runs again on every later require, which still returns the "
       "exports it had before",
       (_N_RETURN_CACHED, "            var kept = cached.exports;\n"
                          "            if (cached.loaded && cached instanceof Module && "
                          "fileFormat(filename) === '.js') {\n"
                          "                compileModule(cached, filename);\n            }\n"
                          "            return kept;")),
    _n("node-cache-by-id", "node.cache.keyed-by-filename",
       "require.cache is keyed by the file's path relative to the case root, not its filename",
       (_N_CACHE_LOOKUP, "cached = cache[filename.slice(root.length + 1)];"),
       (_N_CACHE_FILL, "        cache[filename.slice(root.length + 1)] = module;"),
       (_N_CACHE_FORGET, "        delete cache[filename.slice(root.length + 1)];")),
    _n("node-private-cache", "node.cache.delete-reloads",
       "require looks modules up in a private cache that require.cache only mirrors, so "
       "deleting an entry does not reload the file",
       (_N_CACHE_DECLARED, _N_CACHE_DECLARED + "\n    var privateCache = Object.create(null);"),
       (_N_CACHE_LOOKUP, "cached = privateCache[filename];"),
       (_N_CACHE_FILL, "        cache[filename] = privateCache[filename] = module;"),
       (_N_CACHE_FORGET, _N_CACHE_FORGET + "\n        delete privateCache[filename];")),

    # ---- JSON modules
    _n("node-json-reparsed", "node.json.cached",
       "a JSON file is parsed again on every require, each time a new object",
       (_N_RETURN_CACHED, "            if (cached.loaded && fileFormat(filename) === '.json') {\n"
                          "                loadJson(cached, filename);\n            }\n"
                          + _N_RETURN_CACHED)),
    _n("node-json-as-js", "node.json.parse",
       ".json files are run as JavaScript, so {\"a\": 1} is a syntax error",
       (_N_FORMAT, "        return extension === '.node' ? extension : '.js';")),

    # ---- require.resolve and MODULE_NOT_FOUND
    _n("node-resolve-loads", "node.resolve.no-load",
       "require.resolve loads the module it resolves",
       (_N_RESOLVE, "            var found = resolveFilename(request, module);\n"
                    "            module.require(request);\n            return found;")),
    _n("node-resolve-returns-specifier", "node.resolve.filename",
       "require.resolve returns its argument unchanged (when the module exists)",
       (_N_RESOLVE, "            resolveFilename(request, module);\n            return request;")),
    _n("node-resolve-missing-undefined", "node.resolve.not-found",
       "require.resolve returns undefined when nothing is found",
       (_N_RESOLVE, "            try {\n                return resolveFilename(request, module);"
                    "\n            } catch (error) {\n                return undefined;\n"
                    "            }")),
    _n("node-not-found-no-code", "node.require.not-found",
       "require throws a plain Error without code when nothing is found",
       (_N_MODULE_REQUIRE, "        try {\n            return loadModule(id, this, false);\n"
                           "        } catch (error) {\n"
                           "            if (error && error.requireStack && "
                           "ownErrors.indexOf(error) >= 0) {\n"
                           "                throw new Error(error.message);\n            }\n"
                           "            throw error;\n        }")),

    # ---- the module object, require.main, the wrapper
    _n("node-loaded-never", "node.module.loaded",
       "module.loaded stays false after the module's code has run",
       ("        module.loaded = true;", "        module.loaded = false;")),
    _n("node-children-every-require", "node.module.children",
       "a module is added to the requirer's children on every require, cached ones again",
       (_N_CACHE_HIT, "            addChild(parent, cached, false);")),
    _n("node-parent-last-requirer", "node.module.parent",
       "module.parent becomes the latest requirer on every require (deprecated, so a warning)",
       (_N_CACHE_HIT, _N_CACHE_HIT + "\n            cached.parent = parent;")),
    _n("node-module-filename-is-specifier", "node.module.filename",
       "module.filename is the specifier the module was first required by (lookups still use "
       "its directory)",
       ("        var module = new Module(filename, parent);",
        "        var module = new Module(filename, parent);\n        module.filename = request;"),
       ("        module.filename = filename;", "        module.filename = module.filename || "
                                             "filename;"),
       (_N_RELATIVE_BASE, "            return [parent.path];")),
    _n("node-module-require-from-main", "node.module.require",
       "module.require, called by a program, resolves as from the entry module",
       (_N_MODULE_REQUIRE, "        return loadModule(id, arguments[1] === true || !mainModule ? "
                           "this : mainModule, false);"),
       ("            return module.require(id);", "            return module.require(id, true);")),
    _n("node-main-is-requirer", "node.main.module",
       "require.main is the module object of the module the require belongs to",
       ("        require.main = mainModule;", "        require.main = module;")),
    _n("node-filename-relative", "node.scope.filename",
       "__filename is the module's path relative to the case root",
       ("createRequire(module), module, filename,",
        "createRequire(module), module, filename.slice(root.length + 1),")),
    _n("node-dirname-is-root", "node.scope.dirname",
       "__dirname is the case root in every module",
       (",\n                     dirname(filename));", ",\n                     root);")),
    _n("node-no-dirname", "node.wrapper.free-variables",
       "the wrapper lacks the __dirname parameter",
       ("module, __filename, __dirname) {'", "module, __filename) {'")),
    _n("node-global-eval", "node.wrapper.scope",
       "top-level var declarations lose their var, as when module code runs in the global "
       "scope: the variables are globals shared by every module",
       (_N_WRAPPER, _N_WRAPPER.replace("+ code +", "+ code.replace(/^var /gm, '') +"))),
)

NODE_VARIANTS: tuple[Mutant, ...] = (
    _n("node-this-undefined", None,
       "V1: module code runs with this undefined, not module.exports",
       ("callFunction(factory, exports, exports,", "callFunction(factory, undefined, exports,")),
    _n("node-this-global", None,
       "V1: module code runs with this the global object",
       ("callFunction(factory, exports, exports,", "callFunction(factory, global, exports,")),
    _n("node-extra-extensions", None,
       "V2: after .js and .json, LOAD_AS_FILE and LOAD_INDEX also try .cjs and .ts (as Bun does)",
       (_N_EXTENSIONS, "var extensions = ['.js', '.json', '.cjs', '.ts'];")),
    _n("node-errors-other-form", None,
       "V3: a module not found is a RangeError with a message of its own and no requireStack, "
       "still with code MODULE_NOT_FOUND",
       ("        var error = codedError(Error, \"Cannot find module '\" + request + \"'\" +",
        "        var error = codedError(RangeError, \"no file for '\" + request + \"'\" +"),
       ("        error.requireStack = stack;\n", "")),
    _n("node-failed-module-kept", None,
       "V4: a module whose code threw stays in require.cache (and its parent's children) with "
       "its partial exports; a second require returns them without running it again",
       ("            if (threw) {", "            if (threw && false) {")),
    _n("node-json-error-plain", None,
       "V5: a .json file that is not JSON throws a plain Error that does not name the file",
       ("            error.message = filename + ': ' + error.message;\n            throw error;",
        "            throw new Error('not JSON');")),
    _n("node-id-is-filename", None,
       "V6: module.id is the filename in the entry module too (not '.')",
       ("            module.id = '.';\n", "")),
    _n("node-children-reversed", None,
       "V7: module.children lists the latest loaded first",
       ("            children.push(child);", "            children.unshift(child);")),
    _n("node-children-first-load-only", None,
       "V7: a module that another one loaded first is not added to a later requirer's children",
       (_N_CACHE_HIT, "")),
    _n("node-children-no-json", None,
       "V7: JSON modules are not listed in module.children",
       ("        addChild(parent, this, false);",
        "        if (!/\\.json$/.test(id)) {\n            addChild(parent, this, false);\n"
        "        }")),
    _n("node-trailing-slash-as-file", None,
       "V8: './dir/', '.' and '..' are tried as files (their trailing slash dropped) before "
       "as directories",
       ("        return /(^|\\/)(\\.\\.?)?$/.test(request);", "        return false;")),
    _n("node-bad-package-json-ignored", None,
       "V9: a package.json that is not JSON is ignored: the directory loads its index",
       (_N_BAD_PACKAGE, "            return undefined;")),
    _n("node-wrapper-order", None,
       "V10: the wrapper's parameters come in another order "
       "(require, module, exports, __dirname, __filename)",
       (_N_WRAPPER, "        return '(function (require, module, exports, __dirname, __filename) "
                    "{' + code + '\\n})';"),
       (_N_CALL, "        callFunction(factory, exports, createRequire(module), module, exports, "
                 "dirname(filename),\n                     filename);")),
    _n("node-cycle-copy", None,
       "V11: a cyclic require of a module that has not replaced module.exports gets a copy of "
       "its unfinished exports object, not the object itself",
       ("        this.exports = {};",
        "        this.exports = {};\n        defineProperty(this, 'initial', {value: "
        "this.exports});"),
       (_N_RETURN_CACHED, "            var partial = cached.exports;\n"
                          "            if (!cached.loaded && partial === cached.initial) {\n"
                          "                var copy = {};\n"
                          "                for (var name in partial) {\n"
                          "                    copy[name] = partial[name];\n                }\n"
                          "                return copy;\n            }\n"
                          "            return partial;")),
    _n("node-replaced-entry-ignored", None,
       "V13: an entry stored in require.cache that is no module object of the loader's is "
       "ignored: the file is loaded anew",
       ("        if (cached !== undefined) {", "        if (cached instanceof Module) {")),
    _n("node-walk-stops-at-root", None,
       "V15: NODE_MODULES_PATHS stops at the case root",
       ("            if (directory === '/') {",
        "            if (directory === '/' || directory === root) {")),
)

#: Each profile's mutants and variants (None: Modules/1.1.1), each its own kill matrix.
BY_PROFILE = {None: (MUTANTS, CONFORMING), "node": (NODE_MUTANTS, NODE_VARIANTS)}
#: Every mutant and variant by name, whatever its profile (names are unique across them).
BY_NAME = {m.name: m for m in MUTANTS + NODE_MUTANTS}
VARIANTS = {m.name: m for m in CONFORMING + NODE_VARIANTS}
