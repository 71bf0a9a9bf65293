"""The reference loader of the node profile (node-loader.js) end to end, through QuickJS, each
tree's output checked against what it must print and, where Node 20 is installed, against
what `node main.js` prints on the same tree written to disk."""

import os
import posixpath
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from conformance import harness
from conformance.contract import Ending, Execution, Program
from conformance.reference import ReferenceLoader, exec_files, node_loader_source, read_files
from conformance.reference.compiled import compile_loader
from conformance.reference.engine import execute
from conformance.reference.tree import NODE_VIRTUAL_ROOT
from conformance.yamlfile import read_document

NODE_CASES = Path(__file__).resolve().parent.parent / "cases" / "node"

NODE = shutil.which("node")
#: Defines print() as the reference loader has it, then leaves require.cache as it found it.
PRINT_SHIM = ("globalThis.print = function () { console.log(Array.prototype.map.call("
              "arguments, String).join(' ')); };\ndelete require.cache[__filename];\n")
#: What both loaders' roots read as in a compared output.
ROOT = "<root>"


def dedented(files: dict) -> dict:
    return {path: textwrap.dedent(text) for path, text in files.items()}


def run(files: dict, main: str = "main.js", timeout: float = 5.0) -> Execution:
    return ReferenceLoader().run(Program("test", {}, main, timeout, dedented(files)))


def write(root: Path, files: dict) -> Path:
    for path, text in dedented(files).items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def run_node(tmp_path: Path, files: dict, main: str) -> subprocess.CompletedProcess:
    shim = tmp_path / "print-shim.js"
    shim.write_text(PRINT_SHIM)
    root = write(tmp_path / "tree", files)
    env = {key: value for key, value in os.environ.items() if key != "NODE_PATH"}
    env["HOME"] = str(tmp_path)
    return subprocess.run([NODE, "-r", str(shim), main], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)


def agreed(tmp_path: Path, files: dict, main: str = "main.js", exit_code: int = 0) -> list[str]:
    """The lines the reference printed for the tree, ROOT for its root; the run must end with
    `exit_code`, and Node, when installed, must print the same lines with the same status."""
    execution = run(files, main)
    assert execution.ending is Ending.EXITED and execution.exit_code == exit_code, execution
    lines = execution.stdout.replace(NODE_VIRTUAL_ROOT, ROOT).splitlines()
    if NODE:
        done = run_node(tmp_path, files, main)
        real_root = os.path.realpath(tmp_path / "tree")
        assert (done.stdout.replace(real_root, ROOT).splitlines(), done.returncode) == \
            (lines, exit_code), done.stderr
    return lines


# ---------------------------------------------------------------------------- the contract

def test_the_reference_declares_the_node_profile():
    assert ReferenceLoader().declaration.profiles == frozenset({"node"})
    assert ReferenceLoader(sandbox=True).declaration.profiles == frozenset({"node"})


def test_a_program_with_files_runs_on_node_loader_and_one_with_modules_on_loader_js():
    files = run({"main.js": "print(typeof __filename, typeof module.exports);\n"})
    modules = ReferenceLoader().run(Program("m", {"main": "print(typeof __filename);\n"},
                                            "main", 5.0))
    assert (files.stdout, modules.stdout) == ("string object\n", "undefined\n")


def test_a_case_program_with_the_harness_runs_to_done():
    key = harness.new_key()
    execution = run({
        "app/src/program.js": """\
            var t = require('./conformanceHarness.js').start(require);
            t.clause('node.modules.walk-up');
            t.same(require('walker').where, 'root node_modules', 'found two directories up');
            t.done();
            """,
        "app/src/conformanceHarness.js": harness.source(key),
        "node_modules/walker/index.js": "exports.where = 'root node_modules';\n",
    }, main="app/src/program.js")
    transcript = harness.read(execution.stdout)
    assert execution.exit_code == 0 and transcript.done == 1, execution
    assert transcript.checks_out(key) and not transcript.problems
    assert [a.passed for a in transcript.assertions] == [True]


def test_the_helper_beside_the_main_file_runs_from_its_precompiled_factory():
    compiled = compile_loader(node_loader_source())
    assert compiled is not None and compiled.harness is not None
    key = harness.new_key()
    job = ReferenceLoader()._job(Program("p", {}, "app/main.js", 5.0, {
        "app/main.js": "print(require('./conformanceHarness.js').marker);\n",
        "app/conformanceHarness.js": harness.source(key)}))
    assert job.harness_key == key
    # Run with the precompiled helper but a different file text at its path: the factory wins.
    swapped = job.input.replace("exports.ok = function", "exports.marker = 'source'; "
                                "exports.ok = function", 1)
    assert swapped != job.input
    factory = compiled.harness_factory(key)
    from_bytecode = execute(job.js_source, swapped, 5.0, loader_bytecode=compiled.loader,
                            factories=(factory,))
    from_source = execute(job.js_source, swapped, 5.0)
    assert (from_bytecode.stdout, from_source.stdout) == ("undefined\n", "source\n")


# ---------------------------------------------------------------------------- file lookup

def test_lookup_order_exact_then_js_then_json_and_file_before_directory(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            print(require('./x'), require('./y'), require('./z').z, require('./w'));
            print(require.resolve('./x'), require.resolve('./y'), require.resolve('./w'));
            """,
        "x": "module.exports = 'exact x';\n",
        "x.js": "module.exports = 'x.js';\n",
        "y.js": "module.exports = 'y.js';\n",
        "y.json": '"y.json"\n',
        "z.json": '{"z": "z.json"}\n',
        "w.js": "module.exports = 'file w.js';\n",
        "w/index.js": "module.exports = 'directory w';\n",
    })
    assert lines == ["exact x y.js z.json file w.js", "<root>/x <root>/y.js <root>/w.js"]


def test_a_file_is_read_by_its_extension(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": "print(require('./plain'), require('./data.txt'), "
                   "require('./conf.json').n + 1, require('./conf').n);\n",
        "plain": "module.exports = 'no extension: JavaScript';\n",
        "data.txt": "module.exports = 'unknown extension: JavaScript';\n",
        "conf.json": '{"n": 41}\n',
    })
    assert lines == ["no extension: JavaScript unknown extension: JavaScript 42 41"]


def test_directories_index_js_before_index_json_and_trailing_slash_and_dot(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            print(require('./both'), require('./onlyjson').kind, require('./both/'));
            print(require('./sub/inner.js'));
            try { require('./file/'); } catch (e) { print('file/', e.code); }
            """,
        "index.js": "module.exports = 'root index';\n",
        "both/index.js": "module.exports = 'index.js';\n",
        "both/index.json": '"index.json"\n',
        "onlyjson/index.json": '{"kind": "index.json"}\n',
        "sub/inner.js": "module.exports = [require('..'), require('.')].join(' & ');\n",
        "sub/index.js": "module.exports = 'sub index';\n",
        "file.js": "module.exports = 'file';\n",
    })
    assert lines == ["index.js index.json index.js", "root index & sub index",
                     "file/ MODULE_NOT_FOUND"]


def test_package_json_main(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            print(require('./exact'), require('./completed'), require('./maindir'));
            print(require('./falsy'), require('./nonstring'), require('./nomain'));
            print(require('./fallback'));
            try { require('./broken'); } catch (e) { print('broken', e.code); }
            try { require('./badjson'); } catch (e) { print('badjson', e.name); }
            """,
        "exact/package.json": '{"main": "lib/start.js"}\n',
        "exact/lib/start.js": "module.exports = 'main exact';\n",
        "exact/index.js": "module.exports = 'wrong: index';\n",
        "completed/package.json": '{"main": "lib/start"}\n',
        "completed/lib/start.json": '"main .json completed"\n',
        "maindir/package.json": '{"main": "lib"}\n',
        "maindir/lib/index.js": "module.exports = 'main directory index';\n",
        "falsy/package.json": '{"main": ""}\n',
        "falsy/index.js": "module.exports = 'falsy main: index';\n",
        "nonstring/package.json": '{"main": 5}\n',
        "nonstring/index.js": "module.exports = 'number main: index';\n",
        "nomain/package.json": '{"name": "nomain"}\n',
        "nomain/index.json": '"no main: index.json"\n',
        "fallback/package.json": '{"main": "missing.js"}\n',
        "fallback/index.js": "module.exports = 'unresolvable main: index (1f)';\n",
        "broken/package.json": '{"main": "missing.js"}\n',
        "badjson/package.json": '{"main": \n',
        "badjson/index.js": "module.exports = 'not reached';\n",
    })
    assert lines == ["main exact main .json completed main directory index",
                     "falsy main: index number main: index no main: index.json",
                     "unresolvable main: index (1f)", "broken MODULE_NOT_FOUND",
                     "badjson SyntaxError"]


def test_absolute_specifiers_name_paths_from_the_root(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            print(require(__dirname + '/lib/a') === require('./lib/a.js'));
            print(require(__dirname + '/lib/../lib/a.js').name);
            """,
        "lib/a.js": "exports.name = 'a';\n",
    })
    assert lines == ["true", "a"]


# ---------------------------------------------------------------------------- node_modules

def test_node_modules_walk_up_from_the_requiring_file_nearest_first(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            print(require('./app/src/deep.js'));
            print(require('shared'));
            """,
        "app/src/deep.js": "module.exports = [require('near'), require('shared'), "
                           "require('top')].join(', ');\n",
        "app/src/node_modules/near.js": "module.exports = 'near file';\n",
        "app/node_modules/shared/index.js": "module.exports = 'app shared';\n",
        "node_modules/shared/index.js": "module.exports = 'root shared';\n",
        "node_modules/top/package.json": '{"main": "main"}\n',
        "node_modules/top/main.js": "module.exports = 'top main';\n",
    })
    assert lines == ["near file, app shared, top main", "root shared"]


def test_bare_names_are_never_looked_for_beside_the_requirer(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            try { require('sibling'); } catch (e) { print('sibling', e.code); }
            print(require('./sibling'), require('pkg/sub/file'));
            """,
        "sibling.js": "module.exports = 'beside';\n",
        "node_modules/pkg/index.js": "module.exports = 'pkg';\n",
        "node_modules/pkg/sub/file.js": "module.exports = 'pkg subpath';\n",
    })
    assert lines == ["sibling MODULE_NOT_FOUND", "beside pkg subpath"]


def test_node_modules_is_never_appended_to_node_modules(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": "print(require('outer'));\n",
        "node_modules/outer/index.js": "module.exports = require('inner');\n",
        "node_modules/node_modules/inner.js": "module.exports = 'wrong: nested node_modules';\n",
        "node_modules/inner.js": "module.exports = 'inner beside outer';\n",
    })
    assert lines == ["inner beside outer"]


def test_an_unresolvable_package_does_not_walk_on(tmp_path):
    lines = agreed(tmp_path, {
        "app/main.js": """\
            try { print(require('pkg')); }
            catch (e) { print(e.code, /valid "main"/.test(e.message)); }
            """,
        "app/node_modules/pkg/package.json": '{"main": "gone.js"}\n',
        "node_modules/pkg/index.js": "module.exports = 'wrong: farther';\n",
    }, main="app/main.js")
    assert lines == ["MODULE_NOT_FOUND true"]


def test_module_paths_lists_node_modules_nearest_first_and_is_read_on_each_require():
    execution = run({
        "a/node_modules/b/main.js": """\
            print(JSON.stringify(module.paths));
            module.paths.unshift(__dirname + '/extra');
            print(require('found'));
            """,
        "a/node_modules/b/extra/found.js": "module.exports = 'through module.paths';\n",
        "main.js": "require('./a/node_modules/b/main.js');\n",
    })
    assert execution.stdout.splitlines() == [
        '["/cjs/a/node_modules/b/node_modules","/cjs/a/node_modules","/cjs/node_modules",'
        '"/node_modules"]', "through module.paths"], execution


# ---------------------------------------------------------------------------- the cache

def test_require_cache_identity_deletion_and_replacement(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            var first = require('./lib/counter');
            print(first === require('./lib/counter.js'),
                  first === require(__dirname + '/lib/counter'),
                  first === require('./lib/other.js').counter, first.runs);
            var name = require.resolve('./lib/counter');
            print(require.cache[name].exports === first, require.cache[name].loaded);
            delete require.cache[name];
            var second = require('./lib/counter');
            print(second === first, second.runs, require('./lib/counter') === second);
            require.cache[name] = {exports: 'replaced'};
            print(require('./lib/counter'));
            var data = require('./data.json');
            print(data === require('./data'), Object.keys(require.cache).length);
            """,
        "lib/counter.js": """\
            global.runs = (global.runs || 0) + 1;
            exports.runs = global.runs;
            """,
        "lib/other.js": "exports.counter = require('./counter');\n",
        "data.json": '{"a": [1]}\n',
    })
    assert lines == ["true true true 1", "true true", "false 2 true", "replaced", "true 4"]


def test_a_module_that_threw_is_forgotten_and_runs_again(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            for (var i = 0; i < 2; i++) {
                try { require('./bad'); } catch (e) { print(e.message); }
            }
            print(require.resolve('./bad') in require.cache, module.children.length);
            """,
        "bad.js": "global.tries = (global.tries || 0) + 1;\nthrow new Error('try ' + tries);\n",
    })
    assert lines == ["try 1", "try 2", "false 0"]


# ---------------------------------------------------------------------------- resolve and errors

def test_require_resolve_gives_the_filename_without_loading(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            var name = require.resolve('pkg');
            print(name === ROOT_HINT(), typeof global.loaded);
            print(require('pkg').filename === name, global.loaded);
            try { require.resolve('./absent'); } catch (e) { print(e.code, e instanceof Error); }
            try { require('absent-cc-pkg-x'); } catch (e) {
                print(e.code, e.message.split('\\n')[0], e.requireStack.length);
            }
            function ROOT_HINT() { return __dirname + '/node_modules/pkg/lib/entry.js'; }
            """,
        "node_modules/pkg/package.json": '{"main": "./lib/entry"}\n',
        "node_modules/pkg/lib/entry.js": "global.loaded = true;\nexports.filename = __filename;\n",
    })
    assert lines == ["true undefined", "true true", "MODULE_NOT_FOUND true",
                     "MODULE_NOT_FOUND Cannot find module 'absent-cc-pkg-x' 1"]


def test_require_refuses_a_non_string_or_empty_id(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            try { require(5); } catch (e) { print(e.name, e.code); }
            try { require(''); } catch (e) { print(e.name, e.code); }
            """,
    })
    assert lines == ["TypeError ERR_INVALID_ARG_TYPE", "TypeError ERR_INVALID_ARG_VALUE"]


def test_an_uncaught_not_found_ends_the_program_with_status_1(tmp_path):
    lines = agreed(tmp_path, {"main.js": "print('before');\nrequire('./absent');\n"},
                   exit_code=1)
    assert lines == ["before"]
    assert run({"main.js": "require('./absent');\n"}).stderr.startswith(
        "Uncaught Error: Cannot find module './absent'")


# ---------------------------------------------------------------------------- exports and cycles

def test_module_exports_replacement_and_the_exports_variable(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            print(require('./fn')(), require('./num') + 1, require('./nil'));
            print(JSON.stringify(require('./rebound')), require('./both').a);
            """,
        "fn.js": "module.exports = function () { return 'a function'; };\n",
        "num.js": "module.exports = 41;\n",
        "nil.js": "module.exports = null;\n",
        "rebound.js": "exports = {lost: true};\nexports.also = 'lost';\n",
        "both.js": "exports.a = 'through exports';\nprint(exports === module.exports);\n",
    })
    assert lines == ["a function 42 null", "true", "{} through exports"]


def test_cycles_return_unfinished_exports_and_later_requires_the_final_value(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            var a = require('./a');
            print('main sees', a.done, typeof require('./b'), require('./b').seen);
            print(require('./c')(), require('./d').cSeen());
            """,
        "a.js": """\
            exports.done = false;
            var b = require('./b');
            print('a sees b', b.done);
            exports.done = true;
            """,
        "b.js": """\
            var a = require('./a');
            print('b sees a', a.done, require.cache[require.resolve('./a')].loaded);
            module.exports = {done: true, seen: a.done};
            """,
        "c.js": """\
            module.exports = function () { return 'replaced before'; };
            require('./d');
            """,
        "d.js": """\
            var c = require('./c');
            exports.cSeen = function () { return c(); };
            """,
    })
    assert lines == ["b sees a false false", "a sees b true", "main sees true object false",
                     "replaced before replaced before"]


def test_a_cyclic_requirer_keeps_the_object_it_was_given(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": "var a = require('./a');\n"
                   "print(global.early.final, a.final, require('./a') === a);\n",
        "a.js": "exports.final = false;\nrequire('./b');\nmodule.exports = {final: true};\n",
        "b.js": "global.early = require('./a');\n",
    })
    assert lines == ["false true true"]


# ---------------------------------------------------------------------------- JSON

def test_json_modules_are_parsed_cached_and_a_syntax_error_throws(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            var v = require('./v.json');
            print(v.list.length, v === require('./v'), require('./text.json'));
            try { require('./bad.json'); } catch (e) {
                print(e.name, e.message.indexOf('bad.json') >= 0,
                      require.resolve('./bad.json') in require.cache);
            }
            print(require('./bom.json').ok);
            """,
        "v.json": '{"list": [1, 2, 3]}\n',
        "text.json": '"just a string"\n',
        "bad.json": '{"a": 1,}\n',
        "bom.json": '\ufeff{"ok": "bom stripped"}\n',
    })
    assert lines == ["3 true just a string", "SyntaxError true false", "bom stripped"]


# ---------------------------------------------------------------------- module objects and scope

def test_filename_dirname_and_the_module_object(tmp_path):
    lines = agreed(tmp_path, {
        "app/main.js": """\
            var lib = require('./lib/x');
            print(__filename.slice(-12), __dirname + '/main.js' === __filename, module.id);
            print(module.filename === __filename, module.path === __dirname, module.parent);
            print(lib.file === require.resolve('./lib/x'), lib.dir + '/x.js' === lib.file);
            print(lib.id === lib.file, lib.parentIsMain, lib.mainIsMain, lib.loaded, lib.thisIs);
            print(require.main === module, module.loaded, lib.module.loaded);
            print(module.children.length, module.children[0] === lib.module,
                  lib.module.children[0] === require.cache[require.resolve('./y')]);
            print(require('./y').twiceChild, module.children.length);
            print(Object.keys(module).join());
            """,
        "app/lib/x.js": """\
            exports.file = __filename;
            exports.dir = __dirname;
            exports.id = module.id;
            exports.parentIsMain = module.parent === require.main;
            exports.mainIsMain = require.main !== module && require.main.id === '.';
            exports.loaded = module.loaded;
            exports.thisIs = this === module.exports && arguments.length;
            exports.module = module;
            exports.y = module.require('../y');
            """,
        "app/y.js": "exports.twiceChild = 'y';\n",
    }, main="app/main.js")
    assert lines == ["/app/main.js true .", "true true null", "true true",
                     "true true true false 5", "true false true", "1 true true", "y 2",
                     "id,path,exports,filename,loaded,children,paths"]


def test_top_level_declarations_stay_private_to_the_module(tmp_path):
    lines = agreed(tmp_path, {
        "main.js": """\
            var secret = 'main';
            function helper() {}
            require('./other');
            print(typeof global.secret, typeof global.helper, secret, typeof __dirname);
            """,
        "other.js": "var secret = 'other';\nprint(typeof helper, secret);\n",
    })
    assert lines == ["undefined other", "undefined undefined main string"]


# ---------------------------------------------------------------------------- limits

def test_the_time_limit_and_the_output_limit_hold():
    stuck = run({"main.js": "print('started');\nfor (;;) {}\n"}, timeout=0.3)
    assert stuck.ending is Ending.TIMED_OUT and stuck.stdout == "started\n"
    flood = run({"main.js": "var s = new Array(1 << 16).join('x');\n"
                            "for (var i = 0; i < 64; i++) { print(s); }\n"})
    assert flood.truncated and flood.exit_code == 0 and len(flood.stdout) <= 1 << 20


def test_runaway_recursion_is_an_uncaught_error():
    execution = run({"main.js": "function f() { return f() + 1; }\nf();\n"})
    assert execution.ending is Ending.EXITED and execution.exit_code == 1, execution
    assert execution.stderr.startswith("Uncaught InternalError: stack overflow"), execution


# ---------------------------------------------------------------------- exec of a tree on disk

def test_exec_files_runs_a_tree_on_disk(tmp_path):
    root = write(tmp_path, {
        "app/main.js": """\
            print(require('pkg').where, __filename === process_hint());
            function process_hint() { return require('pkg').root + '/app/main.js'; }
            """,
        "node_modules/pkg/package.json": '{"main": "lib/where.json"}\n',
        "node_modules/pkg/lib/where.json": '{"where": "package main", "unused": 1}\n',
    })
    (tmp_path / "node_modules" / "pkg" / "lib" / "where.json").write_text(
        '{"where": "package main", "root": "%s"}\n' % tmp_path)
    execution = exec_files(tmp_path, "app/main.js")
    assert execution.stdout == "package main true\n", execution
    assert ReferenceLoader().run_tree(root, "app/main.js", 5.0).stdout == execution.stdout


def test_read_files_gives_every_file_as_a_program_of_the_profile_takes_it(tmp_path):
    files = {"app/main.js": "print(require('../conf').name, require('./raw'));\n",
             "conf.json": '{"name": "conf"}\n', "app/raw": "module.exports = 'raw';\n"}
    read = read_files(write(tmp_path, files))
    assert read == dedented(files)
    assert run(read, main="app/main.js").stdout == "conf raw\n"


def test_exec_files_refuses_missing_mains_and_bounds_what_it_reads(tmp_path, monkeypatch):
    import conformance.reference.tree as reference
    with pytest.raises(ValueError, match="not a directory"):
        exec_files(tmp_path / "nowhere", "main.js")
    write(tmp_path, {"main.js": "print(1);\n", "a.json": "{}", "b.txt": ""})
    with pytest.raises(ValueError, match="no main file 'other.js'"):
        exec_files(tmp_path, "other.js")
    with pytest.raises(ValueError, match="no main file"):
        exec_files(tmp_path, "../main.js")
    monkeypatch.setattr(reference, "MAX_TREE_FILES", 2)
    with pytest.raises(ValueError, match="more than 2 files"):
        exec_files(tmp_path, "main.js")


def test_exec_files_does_not_follow_links_out_of_the_root(tmp_path):
    outside = write(tmp_path / "outside", {"secret.json": '{"secret": 1}\n'})
    root = write(tmp_path / "root", {
        "main.js": "try { require('./away/secret'); print('escaped'); } "
                   "catch (e) { print(e.code); }\n"})
    os.symlink(outside, root / "away")
    assert exec_files(root, "main.js").stdout == "MODULE_NOT_FOUND\n"


def test_runner_exec_runs_a_file_tree_with_the_reference(tmp_path, capsys):
    from conformance.cli import exec_command

    write(tmp_path, {"app/main.js": "print(require('./data').v, require('dep'));\n",
                     "app/data.json": '{"v": "json"}\n',
                     "node_modules/dep/index.js": "module.exports = 'dep';\n"})
    status = exec_command([str(tmp_path), "app/main.js", "--loader", "reference", "--profile",
                           "node"])
    assert (status, capsys.readouterr().out) == (0, "json dep\n")
    # A file path as MAIN without --profile is refused: the profile is said, never guessed.
    assert exec_command([str(tmp_path), "app/main.js", "--loader", "reference"]) == 4
    assert "--profile" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the profile's cases

def node_case_program(path: Path, key: str) -> Program:
    """The Program of a node profile case file: its files and the helper beside its main file.
    (Built here until caseload reads files cases; then run.prepare builds it.)"""
    case = read_document(path, 1 << 22).data
    main = case.get("main", "program.js")
    files = dict(case["files"])
    files[posixpath.join(posixpath.dirname(main), f"{harness.HARNESS_ID}.js")] = \
        harness.source(key)
    return Program(str(path.relative_to(NODE_CASES)), {}, main, 10.0, files)


@pytest.mark.parametrize("path", sorted(NODE_CASES.rglob("*.yaml")),
                         ids=lambda path: str(path.relative_to(NODE_CASES))[:-len(".yaml")])
def test_the_reference_passes_every_case_of_the_node_profile(path):
    key = harness.new_key()
    execution = ReferenceLoader().run(node_case_program(path, key))
    transcript = harness.read(execution.stdout)
    assert execution.ending is Ending.EXITED and execution.exit_code == 0, execution
    assert transcript.assertions and not transcript.failures, transcript.failures
    assert transcript.done is not None and transcript.checks_out(key) and \
        not transcript.problems, execution.stdout
