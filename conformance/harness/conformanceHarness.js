// conformanceHarness: the assertion helper that commonjs-conformance cases require.
// Plain ES5 on purpose: an old engine must never fail a case for the harness's sake.
// It prints one line per event; the runner, not this file, decides what they mean:
//   FEATURES require.main=present require.paths=absent module.uri=present
//   PASS <n> <message>      FAIL <n> <message>      DONE <count>
var write = (typeof print === 'function') ? print : function (line) { console.log(line); };
var count = 0;
var finished = false;

function oneLine(text) {
    return String(text).replace(/\r\n|\r|\n/g, ' ');
}

function show(value) {
    if (typeof value === 'string') {
        return '"' + value + '"';
    }
    if (value === null) {
        return 'null';
    }
    if (typeof value === 'object' || typeof value === 'function') {
        var keys = [];
        try {
            keys = Object.keys(value);
        } catch (e) {
            // a host object may refuse; its type is all we can say
        }
        return typeof value + ' with keys [' + keys.slice(0, 8).join(', ') +
               (keys.length > 8 ? ', and more' : '') + ']';
    }
    try {
        return typeof value + ' ' + String(value);
    } catch (e) {
        return typeof value;
    }
}

function report(passed, message) {
    count += 1;
    if (finished) {
        passed = false;
        message = 'assertion after done(): ' + message;
    }
    write((passed ? 'PASS ' : 'FAIL ') + count + ' ' + oneLine(message));
    return passed;
}

function state(present) {
    return present ? 'present' : 'absent';
}

// Report which optional features the loader offers; call as start(require) from the main
// module. `require.main` and `require.paths` are read from the caller's require, `module.uri`
// from this module's own `module`, which Modules/1.0 loaders do not have at all.
exports.start = function (callerRequire) {
    var hasUri = typeof module === 'object' && module !== null && 'uri' in module;
    write('FEATURES require.main=' + state(callerRequire.main !== undefined) +
          ' require.paths=' + state('paths' in callerRequire) +
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
    return report(false, message + ': expected ' + show(expected) + ', got ' + show(actual));
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

// The program reached its end; call exactly once, as the last statement of the main module.
exports.done = function () {
    if (finished) {
        report(false, 'done() called twice');
        return;
    }
    finished = true;
    write('DONE ' + count);
};
