// A host that carries state from one program to the next, on purpose:
//   node leaky-host.js shared-context   one vm context for every program (globals, prototypes)
//   node leaky-host.js shared-cache     a fresh context each time, but one module cache
'use strict';
const vm = require('vm');
const readline = require('readline');

const mode = process.argv[2];
let context = null;
const cache = new Map();

function runProgram(request) {
  const out = [];
  if (!context || mode !== 'shared-context') {
    context = vm.createContext({});
  }
  context.print = (...args) => out.push(args.join(' '));
  const modules = mode === 'shared-cache' ? cache : new Map();
  function load(id) {
    if (modules.has(id)) return modules.get(id).exports;
    const module = {id, exports: {}};
    modules.set(id, module);
    const wrapper = vm.runInContext(`(function (require, exports, module) {${request.modules[id]}\n})`,
                                    context);
    wrapper(load, module.exports, module);
    return module.exports;
  }
  try {
    load(request.main);
    return {id: request.id, stdout: out.map((l) => l + '\n').join(''), stderr: '', exit_code: 0};
  } catch (error) {
    return {id: request.id, stdout: out.map((l) => l + '\n').join(''),
            stderr: `Uncaught ${error}\n`, exit_code: 1};
  }
}

process.stdout.write(JSON.stringify({protocol: 'commonjs-conformance-host', version: 1}) + '\n');
readline.createInterface({input: process.stdin}).on('line', (line) => {
  process.stdout.write(JSON.stringify(runProgram(JSON.parse(line))) + '\n');
});
