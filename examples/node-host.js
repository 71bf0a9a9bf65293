#!/usr/bin/env node
// Node's own CommonJS loader as a host of the suite's host protocol (docs/host-protocol.md):
// one long-lived process that takes cases as JSON lines on stdin and answers each with a JSON
// line on stdout. Each case's modules are written to a fresh directory and its main module is
// loaded by Node's `Module` (its resolution, cache, module objects, require.main), as
// `node main.js` would. One step differs: a module's code is compiled into a fresh vm context
// per case instead of Node's one global context, so nothing a program does to its globals or
// prototypes reaches the next case, and Node's module cache is emptied of the case's modules
// when it ends. So the verdicts are Node's (as with `--loader node`), at a few milliseconds a
// case.
//
//   node examples/node-host.js        (the runner starts it; see examples/node-host.yaml)
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const vm = require('vm');
const Module = require('module');

const PROTOCOL = 'commonjs-conformance-host';
const VERSION = 1;

// Made inside a case's context, so that what Node would make in the program's own realm
// (require, exports, console) belongs to it: `require instanceof Function` holds there.
const REALM_HELPERS = `({
  object: function () { return {}; },
  require: function (mod) { return function require(id) { return mod.require(id); }; },
  console: function (out) {
    return {log: function () { out(Array.prototype.map.call(arguments, String).join(' ')); }};
  }
})`;

// The case that runs now: its context and the helpers made in it.
let current = null;
const nodeCompile = Module.prototype._compile;

// Node's Module.prototype._compile with one change: the module's function is compiled in the
// case's context. The require function it is handed is made as Node's makeRequireFunction
// makes it.
Module.prototype._compile = function (content, filename) {
  if (current === null || !filename.startsWith(current.root + path.sep)) {
    return nodeCompile.call(this, content, filename);
  }
  const compiled = vm.compileFunction(
    content, ['exports', 'require', 'module', '__filename', '__dirname'],
    {filename, parsingContext: current.context});
  if (this.exports !== null && typeof this.exports === 'object' &&
      Object.getPrototypeOf(this.exports) === Object.prototype &&
      Object.keys(this.exports).length === 0) {
    this.exports = current.realm.object();  // Node's `{}`, made in the program's realm
  }
  const mod = this;
  const require = current.realm.require(mod);
  require.resolve = function resolve(request, options) {
    return Module._resolveFilename(request, mod, false, options);
  };
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return compiled.call(this.exports, this.exports, require, this, filename,
                       path.dirname(filename));
};

// Module trees go to memory-backed storage where the machine has it: a disk file system
// serialises the writes and removals of hosts running side by side (-j 2).
function makeBase() {
  for (const dir of ['/dev/shm', os.tmpdir()]) {
    try {
      return fs.mkdtempSync(path.join(dir, 'cjs-node-host-'));
    } catch (e) {
      // not there or not writable: the next
    }
  }
  throw new Error('no writable temporary directory');
}
const base = makeBase();
process.on('exit', () => fs.rmSync(base, {recursive: true, force: true}));
let serial = 0;

function describe(error) {
  try {
    return String(error && error.stack ? error.stack : error);
  } catch (e) {
    return 'a thrown value that cannot be converted to a string';
  }
}

// One program: its files, its context, its output; run as `node main.js` with NODE_PATH set
// to the tree's root (as the `node` loader file runs it), so top-level ids are found there.
function runProgram(request) {
  const root = path.join(base, String(++serial));
  const made = new Set();
  for (const [id, source] of Object.entries(request.modules)) {
    const file = path.join(root, `${id}.js`);
    const dir = path.dirname(file);
    if (!made.has(dir)) {
      fs.mkdirSync(dir, {recursive: true});
      made.add(dir);
    }
    fs.writeFileSync(file, source);
  }
  const stdout = [];
  const context = vm.createContext({});
  const realm = vm.runInContext(REALM_HELPERS, context);
  context.console = realm.console((line) => stdout.push(line));
  current = {root, context, realm};
  process.env.NODE_PATH = root;
  Module._initPaths();
  let stderr = '';
  let exitCode = 0;
  try {
    Module._load(path.join(root, `${request.main}.js`), null, true);
  } catch (error) {
    stderr = `Uncaught ${describe(error)}\n`;
    exitCode = 1;
  } finally {
    current = null;
    process.mainModule = undefined;
    for (const key of Object.keys(Module._cache)) {
      if (key.startsWith(root + path.sep)) delete Module._cache[key];
    }
    for (const key of Object.keys(Module._pathCache)) delete Module._pathCache[key];
    fs.rmSync(root, {recursive: true, force: true});
  }
  return {id: request.id, stdout: stdout.length ? stdout.join('\n') + '\n' : '', stderr,
          exit_code: exitCode};
}

function send(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

if (require.main === module) {
  send({protocol: PROTOCOL, version: VERSION, name: 'node-host'});
  const lines = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
  lines.on('line', (line) => {
    const request = JSON.parse(line);
    if (request.type === 'run') send(runProgram(request));
  });
  lines.on('close', () => process.exit(0));
} else {
  module.exports = {runProgram};  // for bench/hosts.py's floor: the same run, no runner
}
