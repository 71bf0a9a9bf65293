#!/usr/bin/env node
// Node's own module system as a host of the suite's host protocol (docs/host-protocol.md):
// each case's modules are written to a fresh directory and its main module is run by Node's
// real CommonJS loader in a worker thread of its own, a fresh V8 isolate with its own globals
// and module cache. So the verdicts are Node's (as with `--loader node`), without a process
// start per case.
//
//   python runner.py --loader-file examples/node-worker-host.yaml
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const {Worker} = require('worker_threads');

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cjs-worker-host-'));
process.on('exit', () => fs.rmSync(base, {recursive: true, force: true}));

function send(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

// Node prints an uncaught error's stack; the runner reads its 'Error: ...' line.
function describe(error) {
  try {
    return String(error && error.stack ? error.stack : error);
  } catch (e) {
    return 'a thrown value that cannot be converted to a string';
  }
}

// A worker waits, ready, for the case it will run: started while the cases before it run, it
// costs the case little but the run itself. It runs exactly one case: a fresh isolate each.
const BOOT = `
const {parentPort} = require('worker_threads');
parentPort.once('message', ({root, main}) => {
  parentPort.unref();  // the worker ends when the program has
  const Module = require('module');
  process.env.NODE_PATH = root;  // bare ids are top-level ids, found from the tree's root
  Module._initPaths();
  process.argv[1] = main;
  Module.runMain(main);  // Node's own CommonJS loader, the file as the main module
});
`;

function startWorker() {
  const out = [];
  const err = [];
  const worker = new Worker(BOOT, {eval: true, stdout: true, stderr: true, argv: [],
                                   execArgv: []});
  worker.stdout.on('data', (chunk) => out.push(chunk));
  worker.stderr.on('data', (chunk) => err.push(chunk));
  return {worker, out, err};
}

// Workers started ahead: their start-up (the cost of a fresh isolate) overlaps the cases
// before them.
const AHEAD = Math.max(2, Math.min(4, os.cpus().length));
const ready = Array.from({length: AHEAD}, startWorker);

function runProgram(request) {
  return new Promise((resolve) => {
    const root = fs.mkdtempSync(path.join(base, 'case-'));
    for (const [id, source] of Object.entries(request.modules)) {
      const file = path.join(root, `${id}.js`);
      fs.mkdirSync(path.dirname(file), {recursive: true});
      fs.writeFileSync(file, source);
    }
    const {worker, out, err} = ready.shift();
    ready.push(startWorker());
    let uncaught = null;
    worker.on('error', (error) => { uncaught = error; });
    worker.on('exit', (code) => {
      // the streams end after 'exit'; give them a turn of the event loop to flush
      setImmediate(() => {
        fs.rmSync(root, {recursive: true, force: true});
        let stderr = Buffer.concat(err).toString();
        if (uncaught !== null) stderr += `Uncaught ${describe(uncaught)}\n`;
        resolve({id: request.id, stdout: Buffer.concat(out).toString(), stderr,
                 exit_code: uncaught !== null ? 1 : Math.min(Math.max(code, 0), 255)});
      });
    });
    worker.postMessage({root, main: path.join(root, `${request.main}.js`)});
  });
}

send({protocol: 'commonjs-conformance-host', version: 1, name: 'node-worker-host'});
// Requests are answered one at a time, in order.
let queue = Promise.resolve();
const lines = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
lines.on('line', (line) => {
  const request = JSON.parse(line);
  if (request.type === 'run') queue = queue.then(() => runProgram(request)).then(send);
});
lines.on('close', () => queue.then(() => process.exit(0)));
