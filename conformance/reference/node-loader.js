// The reference loader of the node profile (docs/node-profile.md): the CommonJS Node
// documents in doc/api/modules.md, on QuickJS. Plain ES5.
// conformance/reference/__init__.py sets the global commonjsLoaderInput to one JSON string,
//   {"files": [[path, text], ...], "root": "/cjs", "main": "app/program.js",
//    "outputLimit": 1048576, "compiled": [path, ...], ...}
// (files: every file of the tree, at absolute paths under root; main: the main file's path
// relative to root; other fields, which loader.js reads, are ignored), then evaluates this
// script (or its bytecode) in a fresh context. It deletes that global, installs `print`,
// `global` and the global function commonjsLoaderControl, which answers as loader.js's does:
//   control('factory', f)  takes f as the factory of the next path in input.compiled
//   control('run')         deletes the global, runs the main file and returns the report
//   control('report')      JSON {"stdout": text, "truncated": bool, "error": text or null}
//   control('wrap', text)  the text compileModule evaluates for a module whose source is text
// The lookup follows modules.md's "All together" (LOAD_AS_FILE, LOAD_INDEX, LOAD_AS_DIRECTORY,
// LOAD_NODE_MODULES, NODE_MODULES_PATHS), and, where the docs are silent, what Node 20 does.
// There are no built-in modules. Each clause lives in one small named function, so a broken
// "mutant" copy is one text substitution away.
(function (global) {
    var input = JSON.parse(global.commonjsLoaderInput);
    delete global.commonjsLoaderInput;
    var root = input.root;
    var files = Object.create(null), directories = Object.create(null);
    var cache = Object.create(null); // require.cache: module objects by filename
    var mainModule;
    var lines = [], printed = 0, truncated = false, uncaught = null;
    var globalEval = global.eval, defineProperty = Object.defineProperty;
    // The program may replace any of these globals; the loader keeps the originals.
    var parseJson = JSON.parse, stringifyJson = JSON.stringify;
    var callFunction = Function.prototype.call.bind(Function.prototype.call);
    var ownErrors = [];
    var compiledPaths = input.compiled || [], compiled = Object.create(null), compiledCount = 0;

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
            frame = ownErrors.indexOf(error) < 0 && /^\s*(at .*)$/m.exec(error.stack);
        } catch (e) { // a value String() cannot convert
        }
        return 'Uncaught ' + text + (frame ? '\n    ' + frame[1] : '');
    }

    function report() {
        return stringifyJson({stdout: lines.length ? lines.join('\n') + '\n' : '',
                              truncated: truncated, error: uncaught});
    }

    // An error of the loader's own, with Node's `code` (doc/api/errors.md).
    function codedError(Type, message, code) {
        var error = new Type(message);
        error.code = code;
        ownErrors.push(error);
        return error;
    }

    // ---- the virtual file system: every file of the tree, and the directories above them

    function addFile(path, text) {
        files[normalize(path)] = text;
        for (var directory = dirname(normalize(path)); !(directory in directories);
             directory = dirname(directory)) {
            directories[directory] = true;
        }
    }

    function isFile(path) {
        return path in files;
    }

    function isDirectory(path) {
        return path in directories;
    }

    // ---- POSIX paths (always absolute here)

    function dirname(path) {
        var slash = path.lastIndexOf('/');
        return slash <= 0 ? '/' : path.slice(0, slash);
    }

    function basename(path) {
        return path.slice(path.lastIndexOf('/') + 1);
    }

    // An absolute path with '.', '..' and empty segments resolved, and no trailing '/'.
    function normalize(path) {
        var parts = path.split('/'), out = [];
        for (var i = 0; i < parts.length; i++) {
            if (parts[i] === '..') {
                out.pop();
            } else if (parts[i] !== '' && parts[i] !== '.') {
                out.push(parts[i]);
            }
        }
        return '/' + out.join('/');
    }

    // path.resolve(directory, request): an absolute request names itself.
    function resolvePath(directory, request) {
        return normalize(request.charAt(0) === '/' ? request : directory + '/' + request);
    }

    // ---- LOAD_AS_FILE, LOAD_INDEX, LOAD_AS_DIRECTORY

    // LOAD_AS_FILE 1: X itself, when it is a file.
    function tryFile(path) {
        return isFile(path) ? path : false;
    }

    // LOAD_AS_FILE 2-3: X.js, then X.json (.node is outside the profile).
    function tryExtensions(path) {
        var extensions = ['.js', '.json'];
        for (var i = 0; i < extensions.length; i++) {
            if (isFile(path + extensions[i])) {
                return path + extensions[i];
            }
        }
        return false;
    }

    // LOAD_AS_FILE: the exact name before any extension is tried.
    function loadAsFile(path) {
        return tryFile(path) || tryExtensions(path);
    }

    // LOAD_INDEX: X/index.js, then X/index.json.
    function loadIndex(path) {
        return tryExtensions(resolvePath(path, 'index'));
    }

    // The "main" of X/package.json, when it is a non-empty string; a package.json that is no
    // JSON throws, as Node's does.
    function packageMain(path) {
        var file = resolvePath(path, 'package.json'), parsed;
        if (!isFile(file)) {
            return undefined;
        }
        try {
            parsed = parseJson(stripBom(files[file]));
        } catch (error) {
            error.message = 'Error parsing ' + file + ': ' + error.message;
            throw error;
        }
        var main = parsed !== null && typeof parsed === 'object' ? parsed.main : undefined;
        return typeof main === 'string' && main ? main : undefined;
    }

    // LOAD_AS_DIRECTORY 1: "main" tried as a file, then as a directory's index.
    function loadPackageMain(path, main) {
        var target = resolvePath(path, main);
        return loadAsFile(target) || loadIndex(target);
    }

    // LOAD_AS_DIRECTORY 1f (deprecated): a "main" that resolves to nothing falls back to X's
    // own index; 1g: with no index either, the package is missing as a whole.
    function loadMainFallback(path, main, request) {
        var found = loadIndex(path);
        if (!found) {
            var error = codedError(Error, "Cannot find module '" + resolvePath(path, main) +
                                   "'. Please verify that the package.json has a valid " +
                                   '"main" entry', 'MODULE_NOT_FOUND');
            error.path = resolvePath(path, 'package.json');
            error.requestPath = request;
            throw error;
        }
        return found;
    }

    // LOAD_AS_DIRECTORY: package.json "main", else the index (LOAD_AS_DIRECTORY 2).
    function loadAsDirectory(path, request) {
        var main = packageMain(path);
        if (main === undefined) {
            return loadIndex(path);
        }
        return loadPackageMain(path, main) || loadMainFallback(path, main, request);
    }

    // ---- specifiers and where they are looked for

    // './x', '../x', '.' and '..' (Node: '.' followed by nothing, '.' or '/').
    function isRelativeRequest(request) {
        return request.charAt(0) === '.' &&
            (request.length === 1 || request.charAt(1) === '.' || request.charAt(1) === '/');
    }

    function isAbsoluteRequest(request) {
        return request.charAt(0) === '/';
    }

    // A request ending in '/', '.' or '..' names a directory: no file is tried for it.
    function namesDirectoryOnly(request) {
        return /(^|\/)(\.\.?)?$/.test(request);
    }

    // NODE_MODULES_PATHS: DIR/node_modules for DIR and each directory above it, nearest
    // first, never node_modules/node_modules.
    function nodeModulePaths(from) {
        var paths = [];
        for (var directory = from; ; directory = dirname(directory)) {
            if (basename(directory) !== 'node_modules') {
                paths.push(directory === '/' ? '/node_modules' : directory + '/node_modules');
            }
            if (directory === '/') {
                return paths;
            }
        }
    }

    // Where `request` is looked for: a relative one in the requiring file's directory, a bare
    // one in the requirer's module.paths (read as it is now), an absolute one from '/'.
    function lookupPaths(request, parent) {
        if (isAbsoluteRequest(request)) {
            return ['/'];
        }
        if (isRelativeRequest(request)) {
            return [dirname(parent.filename)];
        }
        var paths = parent && parent.paths;
        return paths && paths.length ? Array.prototype.slice.call(paths) : [];
    }

    // LOAD_NODE_MODULES 2 / step 3: in each directory, X as a file, then as a directory. A
    // bare request skips node_modules directories that do not exist.
    function findPath(request, paths) {
        var bare = !isRelativeRequest(request) && !isAbsoluteRequest(request);
        for (var i = 0; i < paths.length; i++) {
            if (typeof paths[i] !== 'string' || (bare && !isDirectory(paths[i]))) {
                continue;
            }
            var path = resolvePath(paths[i], request);
            var found = (!namesDirectoryOnly(request) && loadAsFile(path)) ||
                (isDirectory(path) && loadAsDirectory(path, request));
            if (found) {
                return found;
            }
        }
        return false;
    }

    // The filename `request` names from module `parent`, or a MODULE_NOT_FOUND error.
    function resolveFilename(request, parent) {
        var found = findPath(request, lookupPaths(request, parent));
        if (found) {
            return found;
        }
        var stack = [];
        for (var cursor = parent; cursor; cursor = cursor.parent) {
            stack.push(cursor.filename || cursor.id);
        }
        var error = codedError(Error, "Cannot find module '" + request + "'" +
                               (stack.length ? '\nRequire stack:\n- ' + stack.join('\n- ') : ''),
                               'MODULE_NOT_FOUND');
        error.requireStack = stack;
        throw error;
    }

    // ---- module objects and require

    // `module`: id (the filename; '.' for the main one), path, exports, filename, loaded,
    // children, paths; parent, the module that loaded it first (null for the main one).
    function Module(id, parent) {
        this.id = id;
        this.path = dirname(id);
        this.exports = {};
        defineProperty(this, 'parent', {value: parent, writable: true, configurable: true});
        addChild(parent, this, false);
        this.filename = null;
        this.loaded = false;
        this.children = [];
    }

    // module.require(id): require as from this module.
    defineProperty(Module.prototype, 'require', {writable: true, configurable: true,
                                                 value: function require(id) {
        if (typeof id !== 'string') {
            throw codedError(TypeError, 'The "id" argument must be of type string. Received ' +
                             'type ' + typeof id, 'ERR_INVALID_ARG_TYPE');
        }
        if (id === '') {
            throw codedError(TypeError, "The argument 'id' must be a non-empty string. " +
                             "Received ''", 'ERR_INVALID_ARG_VALUE');
        }
        return loadModule(id, this, false);
    }});

    // module.children: every module this one required, each once, cached ones included.
    function addChild(parent, child, scan) {
        var children = parent && parent.children;
        if (children && !(scan && children.indexOf(child) >= 0)) {
            children.push(child);
        }
    }

    // require.resolve(request): the filename require would load, without loading it.
    function createResolve(module) {
        function resolve(request) {
            if (typeof request !== 'string') {
                throw codedError(TypeError, 'The "request" argument must be of type string. ' +
                                 'Received type ' + typeof request, 'ERR_INVALID_ARG_TYPE');
            }
            return resolveFilename(request, module);
        }
        resolve.paths = function paths(request) {
            return isRelativeRequest(request) ? [dirname(module.filename)]
                : Array.prototype.slice.call(module.paths || []);
        };
        return resolve;
    }

    // The `require` of a module: module.require, with resolve, main and the shared cache.
    function createRequire(module) {
        function require(id) {
            return module.require(id);
        }
        require.resolve = createResolve(module);
        require.main = mainModule;
        require.cache = cache;
        return require;
    }

    // ---- loading

    // require(X): the cached module of X's filename, read from require.cache on every call
    // (an unfinished one in a cycle), or the file loaded, cached before its code runs.
    function loadModule(request, parent, isMain) {
        var filename = resolveFilename(request, parent), cached = cache[filename];
        if (cached !== undefined) {
            addChild(parent, cached, true);
            return cached.exports;
        }
        var module = new Module(filename, parent);
        if (isMain) {
            mainModule = module;
            module.id = '.';
        }
        cache[filename] = module;
        var threw = true;
        try {
            loadFile(module, filename);
            threw = false;
        } finally {
            if (threw) {
                forget(module, filename, parent);
            }
        }
        return module.exports;
    }

    // A module whose loading threw is dropped from the cache and from its parent's children.
    function forget(module, filename, parent) {
        delete cache[filename];
        var children = parent && parent.children, index = children ? children.indexOf(module) : -1;
        if (index >= 0) {
            children.splice(index, 1);
        }
    }

    // Module.prototype.load: filename and paths set, the file run by its format, then loaded.
    function loadFile(module, filename) {
        module.filename = filename;
        module.paths = nodeModulePaths(dirname(filename));
        var format = fileFormat(filename);
        if (format === '.json') {
            loadJson(module, filename);
        } else if (format === '.node') {
            throw codedError(Error, filename + ': .node addons are outside the node profile',
                             'ERR_DLOPEN_FAILED');
        } else {
            compileModule(module, filename);
        }
        module.loaded = true;
    }

    // A file is read by its extension: .json as JSON, any other or none as JavaScript.
    function fileFormat(filename) {
        var name = basename(filename), dot = name.lastIndexOf('.');
        var extension = dot > 0 ? name.slice(dot) : '';
        return extension === '.json' || extension === '.node' ? extension : '.js';
    }

    function stripBom(text) {
        return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    }

    // A JSON file's exports are its text parsed; a syntax error throws, naming the file.
    function loadJson(module, filename) {
        try {
            module.exports = parseJson(stripBom(files[filename]));
        } catch (error) {
            error.message = filename + ': ' + error.message;
            throw error;
        }
    }

    // The wrapper: the module's code as a function of its five free variables. No newline
    // precedes the source, so line numbers stay the file's; a leading '#!' line becomes a
    // comment.
    function wrapModule(source) {
        var code = source.slice(0, 2) === '#!' ? '//' + source.slice(2) : source;
        return '(function (exports, require, module, __filename, __dirname) {' + code + '\n})';
    }

    // Module.prototype._compile: the factory (compiled ahead of time from the same text, or
    // compiled now) called with this = module.exports.
    function compileModule(module, filename) {
        var factory = compiled[filename] || globalEval(wrapModule(files[filename]));
        delete compiled[filename];
        var exports = module.exports;
        callFunction(factory, exports, exports, createRequire(module), module, filename,
                     dirname(filename));
    }

    // The main file: root + main, resolved as an absolute request with no parent.
    function runMain() {
        loadModule(normalize(root + '/' + input.main), null, true);
    }

    for (var i = 0; i < input.files.length; i++) {
        addFile(input.files[i][0], input.files[i][1]);
    }
    defineProperty(global, 'print', {value: print, writable: true, configurable: true});
    defineProperty(global, 'global', {value: global, writable: true, configurable: true});
    defineProperty(global, 'commonjsLoaderControl', {configurable: true, value:
        function control(command, argument) {
            if (command === 'factory') {
                compiled[compiledPaths[compiledCount++]] = argument;
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
