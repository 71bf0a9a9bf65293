// conformanceHarness: the assertion helper that commonjs-conformance cases require.
// Plain ES5 on purpose: an old engine must never fail a case for the harness's sake.
// It prints one line per event; the runner, not this file, decides what they mean:
//   FEATURES require.main=present require.paths=absent module.uri=present
//   CLAUSE <id>   GIVEN <id>   FEATURE <name>=present|absent
//   PASS <n> <message>   FAIL <n> <message>   SKIP <reason>   DONE <count> <check>
// DONE's check covers every one of these lines (see check below and conformance.harness).
// CLAUSE and GIVEN open a section: the assertions after CLAUSE id test clause id; those after
// GIVEN id check a precondition, a clause the case relies on but does not test.
var write = (typeof print === 'function') ? print : function (line) { console.log(line); };
// The runner writes a fresh key here for every run; DONE carries a check over it and the
// PASS/FAIL sequence, so lines this run's harness did not print are told apart.
var RUN_KEY = 'conformance-run-key';
// The count, the trail and whether done() ran live in one object on the global object (where
// there is one), so that a loader that instantiates this module more than once (no module
// cache) still numbers its assertions in one sequence: the cases, not the harness, then show
// the breach, and blame the clause it breaks.
var global = (function () { return this; })();
var STATE = 'conformanceHarnessState' + RUN_KEY.replace(/-/g, '');
var run = (global && global[STATE]) || {count: 0, finished: false, trail: RUN_KEY + ':'};
if (global) {
    try {
        global[STATE] = run;
    } catch (e) {
        // a frozen global: this instance keeps its own state
    }
}

// FNV-1a over the string's code units, 32 bits, in ES5 arithmetic; 8 hex digits.
function check(text) {
    var hash = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
        hash ^= text.charCodeAt(i);
        hash = (hash + (hash << 1) + (hash << 4) + (hash << 7) + (hash << 8) + (hash << 24)) >>> 0;
    }
    return ('0000000' + hash.toString(16)).slice(-8);
}

function oneLine(text) {
    return String(text).replace(/\r\n|\r|\n/g, ' ');
}

function keysOf(value) {
    try {
        return Object.keys(value);
    } catch (e) {
        return [];
    }
}

// A value for a message; with `other` (the value it was compared with), an object with the
// same keys as `other` is called a different object, so that message says what went wrong.
function show(value, other) {
    if (typeof value === 'string') {
        return '"' + value + '"';
    }
    if (value === null) {
        return 'null';
    }
    if (value === undefined) {
        return 'undefined';
    }
    if (typeof value === 'object' || typeof value === 'function') {
        var keys = [];
        try {
            keys = Object.keys(value);
        } catch (e) {
            // a host object may refuse; its type is all we can say
        }
        var listed = ' with keys [' + keys.slice(0, 8).join(', ') +
                     (keys.length > 8 ? ', and more' : '') + ']';
        if (other !== undefined && typeof other === typeof value && other !== null &&
                keysOf(other).join(',') === keys.join(',')) {
            return 'a different ' + typeof value + listed + ' (not the same one)';
        }
        return typeof value + listed;
    }
    try {
        return typeof value + ' ' + String(value);
    } catch (e) {
        return typeof value;
    }
}

function report(passed, message) {
    run.count += 1;
    if (run.finished) {
        passed = false;
        message = 'assertion after done(): ' + message;
    }
    run.trail += passed ? 'P' : 'F';
    write((passed ? 'PASS ' : 'FAIL ') + run.count + ' ' + oneLine(message));
    return passed;
}

function state(present) {
    return present ? 'present' : 'absent';
}

// Report which optional features the loader offers; call as start(require) from the main
// module. `require.main` and `require.paths` are read from the caller's require, `module.uri`
// from this module's own `module`, which Modules/1.0 loaders do not have at all.
// The states go into the trail too, so that the runner honours only the FEATURES line this
// run's harness printed.
exports.start = function (callerRequire) {
    var hasUri = typeof module === 'object' && module !== null && 'uri' in module;
    var hasMain = callerRequire.main !== undefined;
    var hasPaths = 'paths' in callerRequire;
    run.trail += '[F' + (hasMain ? 'p' : 'a') + (hasPaths ? 'p' : 'a') + (hasUri ? 'p' : 'a') + ']';
    write('FEATURES require.main=' + state(hasMain) + ' require.paths=' + state(hasPaths) +
          ' module.uri=' + state(hasUri));
    return exports;
};

exports.ok = function (value, message) {
    return report(!!value, message);
};

exports.same = function (actual, expected, message) {
    if (actual === expected) {
        return report(true, message);
    }
    return report(false, message + ': expected ' + show(expected) + ', got ' +
                  show(actual, expected));
};

exports.notSame = function (actual, unexpected, message) {
    if (actual !== unexpected) {
        return report(true, message);
    }
    return report(false, message + ': got ' + show(actual) + ', which it must not be');
};

exports.throws = function (block, message) {
    try {
        block();
    } catch (e) {
        return report(true, message);
    }
    return report(false, message + ': nothing was thrown');
};

exports.fail = function (message) {
    return report(false, message);
};

// The assertions that follow test clause `id` (one the case cites).
exports.clause = function (id) {
    run.trail += '[C' + id + ']';
    write('CLAUSE ' + oneLine(id));
};

// The assertions and code that follow establish what the case relies on: clause `id`, which
// other cases test. A failure here blocks the case rather than failing the clause it tests.
exports.given = function (id) {
    run.trail += '[G' + id + ']';
    write('GIVEN ' + oneLine(id));
};

// Feature probes: report whether `name` is present as seen by the module calling this.
exports.feature = function (name, present) {
    run.trail += '[f' + oneLine(name) + '=' + (present ? 'p' : 'a') + ']';
    write('FEATURE ' + oneLine(name) + '=' + state(present));
};

// The case cannot be judged on this loader (say, nothing to derive a directory from); the
// program should assert nothing more and still end with done().
// The trail records it, so that a SKIP line this run's harness did not print is told apart.
exports.notApplicable = function (reason) {
    run.trail += '[S]';
    write('SKIP ' + oneLine(reason));
};

// Candidate require.paths entries for directory `sub` of the module tree: one derived from
// every entry already listed and, where the caller's module has a uri, from the directory it
// names (a loader may search places it does not list, and may canonicalize what it lists).
exports.entriesFor = function (callerRequire, callerModule, sub) {
    var found = [];
    var add = function (entry) {
        for (var k = 0; k < found.length; k++) {
            if (found[k] === entry) {
                return;
            }
        }
        found.push(entry);
    };
    var listed = callerRequire.paths || [];
    for (var i = 0; i < listed.length; i++) {
        add(String(listed[i]).replace(/\/*$/, '') + '/' + sub);
    }
    var uri = callerModule && typeof callerModule.uri === 'string' ? callerModule.uri : '';
    var id = callerModule && typeof callerModule.id === 'string' ? callerModule.id : '';
    var parts = uri.replace(/[?#].*$/, '').split('/');
    var depth = id.split('/').length; // the file name and the directories the id descends
    if (uri && id && parts.length > depth + 1) {
        var base = parts.slice(0, parts.length - depth).join('/');
        add(base + '/' + sub);
        var path = /^file:(\/\/[^\/]*)?(\/.*)$/.exec(base);
        if (path) {
            add(decodeURIComponent(path[2]) + '/' + sub);
        }
    }
    return found;
};

// The program reached its end; call exactly once, as the last statement of the main module.
exports.done = function () {
    if (run.finished) {
        report(false, 'done() called twice');
        return;
    }
    run.finished = true;
    write('DONE ' + run.count + ' ' + check(run.trail));
};
