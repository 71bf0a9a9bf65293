#!/usr/bin/env node
// A CommonJS Modules/1.1.1 loader on Node's vm module, run as a host of the suite's host
// protocol (docs/host-protocol.md): one long-lived process that takes cases as JSON lines on
// stdin and answers each with a JSON line on stdout. Every case gets a fresh vm context, so
// nothing one program does (globals, prototypes, its module cache) reaches the next.
//
//   node examples/vm-host.js        (the runner starts it; see examples/vm-host.yaml)
'use strict';

const vm = require('vm');
const readline = require('readline');

const PROTOCOL = 'commonjs-conformance-host';
const VERSION = 1;

// Helpers made inside a program's context, so that everything the program is handed (print,
// require, exports, module, errors) belongs to its own realm: what it does to their
// prototypes stays in that realm, and `instanceof Error` holds for the errors it catches.
const REALM_HELPERS = `({
  print: function (out) {
    return function print() { out(Array.prototype.map.call(arguments, String).join(' ')); };
  },
  require: function (impl) { return function require(id) { return impl(id); }; },
  object: function () { return {}; },
  error: function (message, type) { return type === 'TypeError' ? new TypeError(message)
                                                                 : new Error(message); }
})`;

// The spec's resolution of a module id: terms split on '/', '.' and '..' resolved against the
// requiring module's id when the id starts with one of them (Module Identifiers 1-6).
function resolve(id, fromId, realm) {
  if (typeof id !== 'string') throw realm.error('a module id must be a String', 'TypeError');
  const terms = id.split('/');
  if (terms.some((term) => term === '')) throw realm.error(`module id '${id}' has an empty term`);
  const relative = terms[0] === '.' || terms[0] === '..';
  const out = relative && fromId ? fromId.split('/').slice(0, -1) : [];
  for (const term of terms) {
    if (term === '..') {
      if (!out.length) throw realm.error(`module id '${id}' climbs above the root`);
      out.pop();
    } else if (term !== '.') {
      out.push(term);
    }
  }
  if (!out.length) throw realm.error(`module id '${id}' names no module`);
  return out.join('/');
}

// One program: its own context, module cache and output.
function runProgram(request) {
  const stdout = [];
  const context = vm.createContext({});
  const realm = vm.runInContext(REALM_HELPERS, context);
  context.print = realm.print((line) => stdout.push(line));
  const cache = new Map();
  let mainModule;

  function makeRequire(fromId) {
    const require = realm.require((id) => {
      const topId = resolve(id, fromId, realm);
      if (cache.has(topId)) return cache.get(topId).exports;
      if (!Object.prototype.hasOwnProperty.call(request.modules, topId)) {
        throw realm.error(`cannot find module '${topId}'`);
      }
      return load(topId).exports;
    });
    Object.defineProperty(require, 'main', {value: mainModule, enumerable: true});
    return require;
  }

  function load(topId) {
    const exports = realm.object();
    const module = realm.object();
    Object.defineProperty(module, 'id', {value: topId, enumerable: true});
    if (mainModule === undefined) mainModule = module;
    // Cached before it runs, so that a cycle sees the partly filled exports (Require 5).
    const record = {exports};
    cache.set(topId, record);
    const wrapper = vm.runInContext(
      `(function (require, exports, module) {${request.modules[topId]}\n})`, context,
      {filename: `${topId}.js`});
    wrapper.call(undefined, makeRequire(topId), exports, module);
    return record;
  }

  let stderr = '';
  let exitCode = 0;
  try {
    load(request.main);
  } catch (error) {
    let text;
    try {
      text = String(error && error.stack ? error.stack : error);
    } catch (e) {
      text = 'a thrown value that cannot be converted to a string';
    }
    stderr = `Uncaught ${text}\n`;
    exitCode = 1;
  }
  return {id: request.id, stdout: stdout.length ? stdout.join('\n') + '\n' : '', stderr,
          exit_code: exitCode};
}

function send(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

if (require.main === module) {
  send({protocol: PROTOCOL, version: VERSION, name: 'vm-host'});
  const lines = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
  lines.on('line', (line) => {
    const request = JSON.parse(line);
    if (request.type === 'run') send(runProgram(request));
  });
  lines.on('close', () => process.exit(0));
} else {
  module.exports = {runProgram};  // for bench/hosts.py's floor: the same run, no runner
}
