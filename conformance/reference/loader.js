// The reference loader of commonjs-conformance: CommonJS Modules/1.1.1 on QuickJS.
// conformance/reference/__init__.py sets the global commonjsLoaderInput to one JSON string,
//   {"files": [[path, source], ...], "root": "/modules", "main": "program", "sandbox": false,
//    "uriScheme": "memory://", "outputLimit": 1048576, "compiled": [path, ...]},
// then evaluates this script (or its bytecode) in a fresh context. It deletes that global,
// installs `print` and the global function commonjsLoaderControl; all else stays in this
// closure, out of the modules' reach:
//   control('factory', f)  takes f as the factory of the next path in input.compiled: that
//                          file's source, wrapped by control('wrap', source) and compiled ahead
//                          of time (used once; a second load compiles the source)
//   control('run')         deletes the global, runs the main module and returns the report
//                          below; an uncaught error goes into the report, it is never thrown
//   control('report')      JSON {"stdout": text, "truncated": bool, "error": text or null},
//                          also answerable after the time limit interrupted 'run'
//   control('wrap', text)  the text compileModule evaluates for a module whose source is text
// Each clause lives in one small named function, so a broken "mutant" copy is one text
// substitution away.
(function (global) {
    var input = JSON.parse(global.commonjsLoaderInput);
    delete global.commonjsLoaderInput;
    var files = new Map(input.files), root = input.root, sandbox = input.sandbox;
    var cache = new Map(), paths = [root], mainModule;
    var lines = [], printed = 0, truncated = false, uncaught = null;
    var globalEval = global.eval, defineProperty = Object.defineProperty;
    var ownErrors = new WeakSet();
    var compiledPaths = input.compiled || [], compiled = new Map();

    // ---- output

    // print(...): its arguments as Strings joined by single spaces, one line; bounded.
    function print() {
        var line = Array.prototype.map.call(arguments, String).join(' ');
        printed += line.length + 1;
        truncated = truncated || printed > input.outputLimit;
        if (!truncated) {
            lines.push(line);
        }
    }

    // 'Uncaught ' and the first line of the error, then its innermost frame if it has one
    // (not for the loader's own errors: their frame is in here, their message says it all).
    function describeUncaught(error) {
        var text = 'a thrown ' + typeof error, frame;
        try {
            text = String(error).split('\n')[0];
            frame = !ownErrors.has(error) && /^\s*(at .*)$/m.exec(error.stack);
        } catch (e) { // a value String() cannot convert
        }
        return 'Uncaught ' + text + (frame ? '\n    ' + frame[1] : '');
    }

    function report() {
        return JSON.stringify({stdout: lines.length ? lines.join('\n') + '\n' : '',
                               truncated: truncated, error: uncaught});
    }

    // The loader's own errors: one line naming the module whose require failed.
    function fail(message, fromId, Type) {
        var error = new (Type || Error)(message + (fromId === null ? ' (the main module)'
                                                   : " (required from '" + fromId + "')"));
        ownErrors.add(error);
        return error;
    }

    // ---- module identifiers

    // The terms of `id`; a non-String, the empty String or an empty term throws.
    function splitTerms(id, fromId) {
        if (typeof id !== 'string') {
            throw fail('a module id must be a String, not ' + typeof id, fromId, TypeError);
        }
        var terms = id.split('/');
        if (terms.indexOf('') >= 0) {
            throw fail("module id '" + id + "' is empty or has an empty term", fromId);
        }
        return terms;
    }

    // An id is relative exactly when its first term is '.' or '..'.
    function isRelative(terms) {
        return terms[0] === '.' || terms[0] === '..';
    }

    // The normalized top-level id that `id`, written in module `fromId`, names: a relative
    // id starts from fromId less its last term, a top-level id from the root.
    function resolveId(id, fromId) {
        var terms = splitTerms(id, fromId);
        var out = isRelative(terms) && fromId ? fromId.split('/').slice(0, -1) : [];
        for (var i = 0; i < terms.length; i++) {
            if (terms[i] === '..') {
                if (!out.length) {
                    throw fail("module id '" + id + "' climbs above the root", fromId);
                }
                out.pop();
            } else if (terms[i] !== '.') {
                out.push(terms[i]);
            }
        }
        if (!out.length) {
            throw fail("module id '" + id + "' names no module", fromId);
        }
        return out.join('/');
    }

    // ---- finding module files

    // Where top-level ids are looked for, highest priority first, read afresh at each lookup.
    function searchDirectories() {
        return sandbox ? [root] : paths;
    }

    // The file of top-level module `topId`: directory + '/' + id + '.js', runs of '/' as one.
    function findModuleFile(topId) {
        var directories = searchDirectories();
        for (var i = 0; i < directories.length; i++) {
            var path = typeof directories[i] === 'string' &&
                (directories[i] + '/' + topId + '.js').replace(/\/\/+/g, '/');
            if (path && files.has(path)) {
                return path;
            }
        }
        return undefined;
    }

    // The URI of a file: the scheme, then the path percent-encoded as by Python's Path.as_uri.
    function fileUri(path) {
        return input.uriScheme + encodeURI(path).replace(/[?#;,:@&=+$!'()*]/g, percentEncode);
    }

    function percentEncode(character) {
        return '%' + character.charCodeAt(0).toString(16).toUpperCase();
    }

    // ---- module and require objects

    function defineReadOnly(object, name, value) {
        defineProperty(object, name, {value: value, writable: false, configurable: false,
                                      enumerable: true});
    }

    // `module`: its normalized top-level id and, outside a sandbox, its file's URI.
    function createModuleObject(topId, path) {
        var module = {};
        defineReadOnly(module, 'id', topId);
        if (!sandbox) {
            defineReadOnly(module, 'uri', fileUri(path));
        }
        return module;
    }

    // require.paths, outside a sandbox: the one shared Array; assigning another has no effect.
    var pathsProperty = {get: function () { return paths; }, set: function () {},
                         enumerable: true};

    // The `require` of module `fromId`: relative ids resolve against fromId wherever it runs.
    function createRequire(fromId) {
        var require = function require(id) {
            return requireModule(id, fromId);
        };
        defineReadOnly(require, 'main', mainModule);
        if (!sandbox) {
            defineProperty(require, 'paths', pathsProperty);
        }
        return require;
    }

    // ---- loading

    function requireModule(id, fromId) {
        var topId = resolveId(id, fromId), record = cache.get(topId);
        if (record) {
            return record.exports;
        }
        var path = findModuleFile(topId);
        if (path === undefined) {
            throw fail("cannot find module '" + topId + "'" +
                       (id === topId ? '' : " (as '" + id + "')"), fromId);
        }
        return loadModule(topId, path).exports;
    }

    // The text that makes a module's code a function of its free variables. No newline
    // precedes the source, so line numbers stay the file's; a leading '#!' line becomes a
    // comment.
    function wrapModule(source) {
        var code = source.slice(0, 2) === '#!' ? '//' + source.slice(2) : source;
        return '(function (require, exports, module) {' + code + '\n})';
    }

    // The module's factory: compiled ahead of time from the same text, or compiled now.
    function compileModule(path, topId) {
        var factory = compiled.get(path) || globalEval(wrapModule(files.get(path)));
        compiled.delete(path);
        defineProperty(factory, 'name', {value: topId});
        return factory;
    }

    // Cached before its code runs (so cycles see the partial exports), run once, and
    // forgotten again if its code throws, so a later require tries anew.
    function loadModule(topId, path) {
        var record = {module: createModuleObject(topId, path), exports: {}};
        mainModule = mainModule || record.module; // the first module loaded is the main one
        cache.set(topId, record);
        try {
            var factory = compileModule(path, topId);
            factory.call(record.exports, createRequire(topId), record.exports, record.module);
        } catch (error) {
            cache.delete(topId);
            throw error;
        }
        return record;
    }

    function runMain() {
        var topId = resolveId(input.main, null), path = findModuleFile(topId);
        if (path === undefined) {
            throw fail("cannot find module '" + topId + "'", null);
        }
        loadModule(topId, path);
    }

    defineProperty(global, 'print', {value: print, writable: true, configurable: true});
    defineProperty(global, 'commonjsLoaderControl', {configurable: true, value:
        function control(command, argument) {
            if (command === 'factory') {
                compiled.set(compiledPaths[compiled.size], argument);
            } else if (command === 'wrap') {
                return wrapModule(argument);
            } else if (command === 'run') {
                delete global.commonjsLoaderControl;
                try {
                    runMain();
                } catch (error) {
                    uncaught = describeUncaught(error);
                }
            }
            return report();
        }});
})(globalThis);
