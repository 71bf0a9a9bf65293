#!/usr/bin/env node
// A small CommonJS Modules/1.1.1 loader on Node, written as a third party would write one:
// it reads modules from a directory and runs them with Node's vm module, not Node's require.
// It is the example loader of the README's "Certify your loader":
//
//   node examples/mini-loader.js [--sandbox] ROOT MAIN
//
// runs module id MAIN (module ROOT/MAIN.js), with a global print(...).
'use strict';
var fs = require('fs');
var path = require('path');
var url = require('url');
var vm = require('vm');

var args = process.argv.slice(2);
var sandbox = args[0] === '--sandbox';
if (sandbox) {
    args.shift();
}
if (args.length !== 2) {
    process.stderr.write('usage: mini-loader.js [--sandbox] ROOT MAIN\n');
    process.exit(2);
}
var root = path.resolve(args[0]);
var paths = [root];          // require.paths: one Array shared by every module
var cache = new Map();       // top-level id -> {module, exports}
var mainModule;

global.print = function () {
    process.stdout.write(Array.prototype.map.call(arguments, String).join(' ') + '\n');
};

// The normalized top-level id that `id`, written in module `fromId`, names.
function resolve(id, fromId) {
    if (typeof id !== 'string' || id === '' || id.split('/').indexOf('') >= 0) {
        throw new Error('invalid module id ' + JSON.stringify(id));
    }
    var terms = id.split('/');
    var out = (terms[0] === '.' || terms[0] === '..') ? fromId.split('/').slice(0, -1) : [];
    terms.forEach(function (term) {
        if (term === '..') {
            if (!out.length) {
                throw new Error('module id ' + id + ' climbs above the root');
            }
            out.pop();
        } else if (term !== '.') {
            out.push(term);
        }
    });
    if (!out.length) {
        throw new Error('module id ' + id + ' names no module');
    }
    return out.join('/');
}

// The file of a top-level id: the first directory of require.paths (read afresh) that has it.
function locate(topId) {
    var directories = sandbox ? [root] : paths;
    for (var i = 0; i < directories.length; i++) {
        var file = path.join(String(directories[i]), topId + '.js');
        if (fs.existsSync(file) && fs.statSync(file).isFile()) {
            return file;
        }
    }
    return null;
}

function makeRequire(fromId) {
    var require = function (id) {
        var topId = resolve(id, fromId);
        var record = cache.get(topId);
        if (record) {
            return record.exports;
        }
        var file = locate(topId);
        if (!file) {
            throw new Error("cannot find module '" + topId + "' (required from '" + fromId + "')");
        }
        return load(topId, file).exports;
    };
    Object.defineProperty(require, 'main', {value: mainModule, enumerable: true});
    if (!sandbox) {
        Object.defineProperty(require, 'paths', {value: paths, enumerable: true});
    }
    return require;
}

function load(topId, file) {
    var module = {};
    Object.defineProperty(module, 'id', {value: topId, enumerable: true});
    if (!sandbox) {
        Object.defineProperty(module, 'uri', {value: url.pathToFileURL(file).href,
                                               enumerable: true});
    }
    var record = {module: module, exports: {}};
    mainModule = mainModule || module;
    cache.set(topId, record);
    try {
        var factory = vm.runInThisContext(
            '(function (require, exports, module) {' + fs.readFileSync(file, 'utf8') + '\n})',
            {filename: file});
        factory.call(undefined, makeRequire(topId), record.exports, module);
    } catch (error) {
        cache.delete(topId);
        throw error;
    }
    return record;
}

try {
    var mainId = resolve(args[1], '');
    var mainFile = locate(mainId);
    if (!mainFile) {
        throw new Error("cannot find the main module '" + mainId + "'");
    }
    load(mainId, mainFile);
} catch (error) {
    process.stderr.write('Uncaught ' + (error && error.stack || String(error)) + '\n');
    process.exit(1);
}
