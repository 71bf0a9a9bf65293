"""The reference loader end to end, through the real QuickJS engine."""

import json
import os
import textwrap
import time
from pathlib import Path

import pytest
import quickjs

from conformance.contract import Ending, Execution, Loader, Program
from conformance.caseload import discover, load_all
from conformance.harness import HARNESS_ID, read, source
from conformance.outcomes import Outcome
from conformance.reference import ReferenceLoader, exec_tree
from conformance.run import run_case

CASES = Path(__file__).resolve().parent.parent / "cases"


def run(modules: dict, main: str = "program", sandbox: bool = False,
        timeout: float = 5.0) -> Execution:
    modules = {key: textwrap.dedent(text) for key, text in modules.items()}
    return ReferenceLoader(sandbox=sandbox).run(Program("test", modules, main, timeout))


def printed(modules: dict, **kwargs) -> list[str]:
    """The lines the program printed; it must end normally."""
    execution = run(modules, **kwargs)
    assert execution.ending is Ending.EXITED and execution.exit_code == 0, execution
    assert execution.stderr == ""
    return execution.stdout.splitlines()


# ---------------------------------------------------------------------------- the contract

def test_is_a_loader_with_its_declaration():
    plain, sandbox = ReferenceLoader(), ReferenceLoader(sandbox=True)
    assert isinstance(plain, Loader) and isinstance(sandbox, Loader)
    assert (plain.name, sandbox.name) == ("reference", "reference-sandbox")
    assert plain.declaration.sandbox is False and sandbox.declaration.sandbox is True
    assert plain.declaration.spec == sandbox.declaration.spec == "1.1.1"


def test_the_spec_sample_program():
    lines = printed({
        "math": """\
            exports.add = function() {
                var sum = 0, i = 0, args = arguments, l = args.length;
                while (i < l) {
                    sum += args[i++];
                }
                return sum;
            };
            """,
        "increment": """\
            var add = require('math').add;
            exports.increment = function(val) {
                return add(val, 1);
            };
            """,
        "program": """\
            var inc = require('increment').increment;
            var a = 1;
            print(inc(a), module.id == "program");
            """,
    })
    assert lines == ["2 true"]


def test_print_joins_string_conversions_with_single_spaces():
    lines = printed({"program": """\
        print(1, 'a', null, undefined, {}, [1, 2], true);
        print();
        print('two\\nlines');
        """})
    assert lines == ["1 a null undefined [object Object] 1,2 true", "", "two", "lines"]


def test_the_harness_helper_works_on_the_reference_loader():
    execution = run({
        HARNESS_ID: source(),
        "program": """\
            var t = require('conformanceHarness').start(require, module);
            t.same(require('thing').value, 42, 'require returns the exports');
            t.done();
            """,
        "thing": "exports.value = 42;\n",
    })
    transcript = read(execution.stdout)
    assert transcript.features == {"require.main": True, "require.paths": True,
                                   "module.uri": True}
    assert transcript.done == 1 and not transcript.failures and not transcript.problems


# ---------------------------------------------------------------------------- free variables

def test_each_module_has_its_own_require_exports_and_module():
    lines = printed({
        "program": """\
            var other = require('other');
            print(typeof require, typeof exports, typeof module);
            print(other.require !== require, other.exports !== exports, other.module !== module);
            print(other.exports === require('other'));
            """,
        "other": "exports.require = require; exports.exports = exports;\n"
                 "exports.module = module;\n",
    })
    assert lines == ["function object object", "true true true", "true"]


def test_top_level_variables_stay_private_and_no_loader_state_leaks():
    bare = quickjs.Context().eval("JSON.stringify(Object.getOwnPropertyNames(globalThis))")
    lines = printed({
        "program": """\
            var secret = 1;
            function helper() {}
            require('other');
            print(typeof globalThis.secret, typeof globalThis.helper, typeof otherSecret);
            print(JSON.stringify(Object.getOwnPropertyNames(globalThis)));
            """,
        "other": "var otherSecret = 2;\n",
    })
    assert lines[0] == "undefined undefined undefined"
    assert set(json.loads(lines[1])) == set(json.loads(bare)) | {"print"}


def test_line_numbers_of_module_code_are_those_of_the_file():
    execution = run({"program": "var a = 1;\nvar b = 2;\nthrow new Error('on line three');\n"})
    assert execution.exit_code == 1
    first, frame = execution.stderr.splitlines()
    assert first == "Uncaught Error: on line three"
    assert frame.strip().startswith("at ") and ":3)" in frame


def test_a_hashbang_line_is_ignored():
    assert printed({"program": "#!/usr/bin/env commonjs\nprint('ran');\n"}) == ["ran"]


# ---------------------------------------------------------------------------- singletons, cycles

def test_a_module_is_a_singleton():
    lines = printed({
        "program": """\
            var a = require('a'), b = require('b');
            print(a.counter === b.counter, a.counter === require('counter'));
            print(require('tally').runs);
            """,
        "a": "exports.counter = require('counter');\n",
        "b": "exports.counter = require('./counter');\n",
        "counter": "require('tally').runs += 1;\n",
        "tally": "exports.runs = 0;\n",
    })
    assert lines == ["true true", "1"]


def test_two_module_cycle_sees_partial_exports():
    lines = printed({
        "program": """\
            var a = require('a');
            print(a.seenByB, a.late, a.fromB);
            """,
        "a": """\
            exports.early = 'early';
            var b = require('b');
            exports.seenByB = b.earlyOfA;
            exports.fromB = b.done;
            exports.late = 'late';
            """,
        "b": """\
            var a = require('a');
            exports.earlyOfA = a.early + ' ' + String(a.late);
            exports.done = 'b-done';
            """,
    })
    assert lines == ["early undefined late b-done"]


def test_three_module_cycle_and_the_same_object():
    lines = printed({
        "program": "var a = require('a'); print(a.seen, a.c.a === a);\n",
        "a": "exports.x = 'ax'; exports.c = require('b').c; exports.seen = exports.c.seen;\n",
        "b": "exports.c = require('c');\n",
        "c": "var a = require('a'); exports.a = a; exports.seen = a.x + ':' + String(a.c);\n",
    })
    assert lines == ["ax:undefined true"]


def test_self_cycle_returns_the_own_exports():
    lines = printed({"program": """\
        exports.before = 1;
        var self = require('program');
        print(self === exports, self.before, require('./program') === exports);
        """})
    assert lines == ["true 1 true"]


def test_the_main_module_is_in_the_cache_too():
    lines = printed({
        "program": "exports.tag = 'main'; print(require('other').seen);\n",
        "other": "exports.seen = require('program').tag + ' ' + require(require.main.id).tag;\n",
    })
    assert lines == ["main main"]


# ---------------------------------------------------------------------------- identifiers

def test_relative_ids_resolve_against_the_requiring_module():
    lines = printed({
        "program": "print(require('a/b/c').found);\n",
        "a/b/c": "exports.found = [require('./d').name, require('../e').name, "
                 "require('../../f').name, require('.././b/d').name].join(' ');\n",
        "a/b/d": "exports.name = 'a/b/d';\n",
        "a/e": "exports.name = 'a/e';\n",
        "f": "exports.name = 'f';\n",
    })
    assert lines == ["a/b/d a/e f a/b/d"]


def test_top_level_ids_resolve_from_the_root_with_no_relative_fallback():
    lines = printed({
        "program": "print(require('a/b').result);\n",
        "a/b": """\
            var found = require('c').name;
            var fallback;
            try { require('d'); fallback = 'fell back'; } catch (e) { fallback = 'threw'; }
            exports.result = found + ' ' + fallback;
            """,
        "c": "exports.name = 'root c';\n",
        "a/c": "exports.name = 'a/c';\n",
        "a/d": "exports.name = 'a/d';\n",
    })
    assert lines == ["root c threw"]


def test_dot_terms_inside_ids():
    lines = printed({
        "program": """\
            print(require('a/./b').name, require('a/../c').name, require('./x/../c').name,
                  require('a/b/../b').name, require('a/b') === require('./a/./b'));
            """,
        "a/b": "exports.name = 'a/b';\n",
        "c": "exports.name = 'c';\n",
    })
    assert lines == ["a/b c c a/b true"]


def test_climbing_above_the_root_throws():
    lines = printed({
        "program": """\
            function attempt(id) {
                try { require(id); return 'returned'; } catch (e) { return e.message; }
            }
            print(attempt('../c'));
            print(attempt('a/../../c'));
            print(require('a/b').attempt);
            """,
        "a/b": "try { require('../../c'); } catch (e) { exports.attempt = e.message; }\n",
        "c": "exports.name = 'c';\n",
    })
    assert lines == [
        "module id '../c' climbs above the root (required from 'program')",
        "module id 'a/../../c' climbs above the root (required from 'program')",
        "module id '../../c' climbs above the root (required from 'a/b')",
    ]


def test_malformed_ids_throw():
    lines = printed({
        "program": """\
            function attempt(id) {
                try { require(id); return 'returned'; } catch (e) { return e.name; }
            }
            var ids = ['', 'a//b', '/a', 'a/', '/', 'a/..', '.', 42, null, undefined, {}];
            print(ids.map(attempt).join(' '));
            """,
        "a": "exports.name = 'a';\n",
        "a/b": "exports.name = 'a/b';\n",
    })
    assert lines == ["Error Error Error Error Error Error Error " +
                     "TypeError TypeError TypeError TypeError"]


def test_a_passed_on_require_resolves_against_the_module_it_was_written_in():
    lines = printed({
        "program": "print(require('app/main').result);\n",
        "app/main": "exports.result = require('lib/helper').load(require, './sibling');\n",
        "app/sibling": "exports.name = 'app/sibling';\n",
        "lib/helper": "exports.load = function (req, id) { return req(id).name; };\n",
        "lib/sibling": "exports.name = 'lib/sibling';\n",
    })
    assert lines == ["app/sibling"]


def test_ids_named_like_object_prototype_members():
    names = ["hasOwnProperty", "toString", "constructor", "__proto__", "valueOf"]
    modules = {name: f"exports.name = '{name}';\n" for name in names}
    modules["program"] = """\
        var names = ['hasOwnProperty', 'toString', 'constructor', '__proto__', 'valueOf'];
        print(names.map(function (n) {
            return require(n).name === n && require(n) === require(n);
        }).join(' '));
        var missing = ['isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString'];
        print(missing.map(function (n) {
            try { require(n); return 'returned'; } catch (e) { return 'threw'; }
        }).join(' '));
        """
    assert printed(modules) == ["true true true true true", "threw threw threw"]


# ---------------------------------------------------------------------------- failures

def test_a_missing_module_throws_names_it_and_keeps_throwing():
    lines = printed({
        "program": """\
            function attempt(id) {
                try { require(id); return 'returned'; } catch (e) { return e.message; }
            }
            print(attempt('nowhere'));
            print(attempt('nowhere'));
            print(require('a/b').message);
            """,
        "a/b": "try { require('./gone'); } catch (e) { exports.message = e.message; }\n",
    })
    assert lines == [
        "cannot find module 'nowhere' (required from 'program')",
        "cannot find module 'nowhere' (required from 'program')",
        "cannot find module 'a/gone' (as './gone') (required from 'a/b')",
    ]


def test_a_throwing_module_makes_require_throw_each_time():
    lines = printed({
        "program": """\
            var first, second;
            try { require('bad'); first = 'returned'; } catch (e) { first = e.message; }
            try { require('bad'); second = 'returned'; } catch (e) { second = e.message; }
            print(first, '|', second, '|', require('tally').runs);
            """,
        "bad": "require('tally').runs += 1;\nthrow new Error('bad module');\n",
        "tally": "exports.runs = 0;\n",
    })
    assert lines == ["bad module | bad module | 2"]


def test_a_syntax_error_makes_require_throw():
    lines = printed({
        "program": "try { require('broken'); } catch (e) { print(e.name); }\n",
        "broken": "exports.x = ;\n",
    })
    assert lines == ["SyntaxError"]


# ---------------------------------------------------------------------------- module object

def test_module_id_is_the_top_level_id_and_read_only():
    lines = printed({
        "program": """\
            var b = require('./a/./b');
            print(b.id, require(b.id) === b, module.id);
            """,
        "a/b": """\
            'use strict';
            exports.id = module.id;
            var d = Object.getOwnPropertyDescriptor(module, 'id');
            print(d.writable, d.configurable, d.enumerable);
            try { module.id = 'other'; print('assigned'); } catch (e) { print(e.name); }
            try { delete module.id; print('deleted'); } catch (e) { print(e.name); }
            print(module.id);
            """,
    })
    assert lines == ["false false true", "TypeError", "TypeError", "a/b", "a/b true program"]


def test_module_id_survives_sloppy_assignment_and_delete():
    lines = printed({"program": """\
        module.id = 'other';
        print(delete module.id, module.id);
        """})
    assert lines == ["false program"]


def test_module_uri_names_the_file_outside_a_sandbox():
    lines = printed({
        "program": "print(module.uri, require('a/b').uri, typeof module.uri);\n",
        "a/b": "exports.uri = module.uri;\n",
    })
    assert lines == ["memory:///modules/program.js memory:///modules/a/b.js string"]


def test_a_sandbox_module_has_no_uri_and_require_no_paths():
    lines = printed({
        "program": """\
            print('uri' in module, 'paths' in require, typeof require.paths, module.uri);
            print(require('a/b').seen, require('a/b').name);
            """,
        "a/b": """\
            exports.seen = ('uri' in module) + ' ' + ('paths' in require);
            exports.name = require('./c').name;
            """,
        "a/c": "exports.name = 'a/c';\n",
    }, sandbox=True)
    assert lines == ["false false undefined undefined", "false false a/c"]


# ---------------------------------------------------------------------------- require.main

def test_require_main_is_the_main_module_everywhere_and_read_only():
    lines = printed({
        "program": """\
            'use strict';
            var other = require('a/other');
            print(require.main === module, other.main === module, other.main.id);
            try { require.main = {}; print('assigned'); } catch (e) { print(e.name); }
            try { delete require.main; print('deleted'); } catch (e) { print(e.name); }
            print(require.main === module);
            """,
        "a/other": """\
            require.main = {};
            delete require.main;
            exports.main = require.main;
            """,
    })
    assert lines == ["true true program", "TypeError", "TypeError", "true"]


def test_require_main_follows_the_chosen_main_module():
    lines = printed({
        "program": "print('not the main module');\n",
        "tools/start": "print(require.main === module, require.main.id);\n",
    }, main="tools/start")
    assert lines == ["true tools/start"]


# ---------------------------------------------------------------------------- require.paths

def test_require_paths_is_one_array_of_strings_in_every_module():
    lines = printed({
        "program": """\
            var other = require('a/other');
            print(Array.isArray(require.paths), other.paths === require.paths);
            print(require.paths.every(function (p) { return typeof p === 'string'; }));
            print(JSON.stringify(require.paths));
            """,
        "a/other": "exports.paths = require.paths;\n",
    })
    assert lines == ["true true", "true", '["/modules"]']


def test_pushing_onto_require_paths_finds_a_module_in_a_subdirectory():
    lines = printed({
        "program": """\
            try { require('thing'); print('found too early'); } catch (e) { print('not yet'); }
            require.paths.push(require.paths[0] + '/extra');
            var thing = require('thing');
            print(thing.where, require('thing') === thing);
            """,
        "extra/thing": "exports.where = module.id + ' ' + module.uri;\n",
    })
    assert lines == ["not yet", "thing memory:///modules/extra/thing.js true"]


def test_unshift_from_another_module_takes_priority():
    lines = printed({
        "program": """\
            require('setup');
            print(require('thing').where, require.paths.length);
            """,
        "setup": "require.paths.unshift(require.paths[require.paths.length - 1] + '/first/');\n",
        "thing": "exports.where = 'root';\n",
        "first/thing": "exports.where = 'first';\n",
    })
    assert lines == ["first 2"]


def test_splice_and_index_assignment_change_the_lookup():
    lines = printed({
        "program": """\
            var root = require.paths[0];
            require.paths[0] = root + '//one';
            var one = require('x').where;
            require.paths.splice(0, 1, root + '/two');
            print(one, require('y').where);
            require.paths.length = 0;
            try { require('z'); print('found z'); } catch (e) { print('z not found'); }
            """,
        "one/x": "exports.where = 'one/x';\n",
        "two/y": "exports.where = 'two/y';\n",
        "z": "exports.where = 'z';\n",
    })
    assert lines == ["one/x two/y", "z not found"]


def test_loaded_modules_stay_cached_by_id_whatever_paths_become():
    lines = printed({
        "program": """\
            var before = require('thing');
            require.paths.unshift(require.paths[0] + '/other');
            print(require('thing') === before, before.where);
            """,
        "thing": "exports.where = 'root';\n",
        "other/thing": "exports.where = 'other';\n",
    })
    assert lines == ["true root"]


def test_replacing_require_paths_has_no_effect():
    lines = printed({
        "program": """\
            'use strict';
            var original = require.paths;
            require.paths = ['/elsewhere'];
            print(require.paths === original, require('other').paths === original);
            """,
        "other": "exports.paths = require.paths;\n",
    })
    assert lines == ["true true"]


# ---------------------------------------------------------------------------- how runs end

def test_an_uncaught_error_exits_1_with_the_message_on_stderr():
    execution = run({"program": "print('before');\nrequire('missing');\nprint('after');\n"})
    assert execution.ending is Ending.EXITED and execution.exit_code == 1
    assert execution.stdout == "before\n"
    assert execution.stderr == ("Uncaught Error: cannot find module 'missing' "
                                "(required from 'program')\n")


def test_an_uncaught_non_error_value():
    execution = run({"program": "throw 5;\n"})
    assert execution.exit_code == 1 and execution.stderr == "Uncaught 5\n"
    execution = run({"program": "throw {toString: function () { throw 1; }};\n"})
    assert execution.exit_code == 1 and execution.stderr.startswith("Uncaught a thrown object")


def test_an_endless_loop_times_out_with_the_output_before_it():
    started = time.perf_counter()
    execution = run({"program": "print('started');\nfor (;;) {}\n"}, timeout=0.3)
    assert time.perf_counter() - started < 5
    assert execution.ending is Ending.TIMED_OUT and execution.exit_code is None
    assert execution.stdout == "started\n"
    assert "0.3 s" in execution.diagnostic


def test_an_endless_promise_chain_times_out():
    execution = run({"program": """\
        print('started');
        (function again() { Promise.resolve().then(again); })();
        """}, timeout=0.3)
    assert execution.ending is Ending.TIMED_OUT and execution.stdout == "started\n"


def test_promise_jobs_run_after_the_main_module():
    assert printed({"program": """\
        Promise.resolve().then(function () { print('later'); });
        print('first');
        """}) == ["first", "later"]


def test_a_memory_bomb_is_an_uncaught_out_of_memory_error():
    execution = run({"program": """\
        print('started');
        var hoard = [];
        for (;;) { hoard.push(new Array(100000).fill(1)); }
        """})
    assert execution.ending is Ending.EXITED and execution.exit_code == 1
    assert execution.stdout == "started\n"
    assert execution.stderr.startswith("Uncaught InternalError: out of memory")


def test_deep_recursion_is_an_uncaught_stack_overflow():
    execution = run({"program": "print('started');\n"
                                "function f(n) { return f(n + 1) + 1; }\nf(0);\n"})
    assert execution.ending is Ending.EXITED and execution.exit_code == 1
    assert execution.stdout == "started\n"
    assert execution.stderr.startswith("Uncaught InternalError: stack overflow")
    assert len(execution.stderr.splitlines()) <= 2


def test_output_is_bounded():
    execution = run({"program": "var line = new Array(1001).join('x');\n"
                                "for (var i = 0; i < 2000; i++) { print(line); }\n"})
    assert execution.exit_code == 0
    assert 1_000_000 < len(execution.stdout) <= 1 << 20
    assert "output beyond" in execution.stderr


#: A replaced JSON.stringify (loader.js writes its report with it) and what the Execution says.
MALFORMED_REPLIES = [
    ("return '[1,2]';", "JSON.stringify gave a JSON array, not an object: '[1,2]'"),
    ("return 'not json';", "JSON.stringify gave text that is not JSON: 'not json'"),
    ("return 42;", "JSON.stringify gave the number 42, not a string"),
    ("return undefined;", "JSON.stringify gave undefined or null, not a string"),
    ("return {};", "JSON.stringify gave an object or a function, not a string"),
    ("return new Array(10001).join('[');", "JSON.stringify gave text that is not JSON: "
                                           "'[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                                           "[[[[[[[[[['... (10000 characters)"),
    ("return '{\"stdout\": \"\", \"truncated\": 1, \"error\": null}';",
     "the report's 'truncated' is a JSON number, not true or false"),
    ("return '{\"stdout\": \"\", \"truncated\": false, \"error\": false}';",
     "the report's 'error' is a JSON boolean, not a string or null"),
    ("return '{\"truncated\": false, \"error\": null}';", "the report has no 'stdout'"),
]


@pytest.mark.parametrize("body, says", MALFORMED_REPLIES, ids=[b for b, _ in MALFORMED_REPLIES])
def test_a_program_that_makes_the_reply_malformed_is_a_crash_saying_so(body, says):
    loader = ReferenceLoader()
    program = Program("hostile", {"program": "print('PASS 1 x');\n"
                                             f"JSON.stringify = function () {{ {body} }};\n"},
                      "program", 5.0)
    execution = loader.run(program)
    assert execution.ending is Ending.CRASHED and execution.exit_code is None, execution
    assert execution.diagnostic.startswith(f"the program's reply was malformed: {says}"), \
        execution.diagnostic
    assert "JSON.stringify, which the program may have replaced" in execution.diagnostic
    assert "\n" not in execution.diagnostic and len(execution.diagnostic) < 300
    assert (execution.stdout, execution.stderr) == ("", "")
    # The worker lived on: the next program runs in it, in a fresh context.
    assert loader.run(Program("next", {"program": "print(JSON.stringify([1]));"}, "program",
                              5.0)).stdout == "[1]\n"


def test_a_reply_of_the_right_shape_made_by_the_program_is_taken_as_it_is():
    """Only the shape of the reply is checked: a forged report of the right shape is what the
    run printed, as far as the adapter can tell (the harness's check catches the forgery)."""
    execution = run({"program": "JSON.stringify = function () { return '{\"stdout\": "
                                "\"forged\\\\n\", \"truncated\": false, \"error\": null}'; };\n"})
    assert (execution.ending, execution.stdout, execution.stderr) == \
        (Ending.EXITED, "forged\n", "")


def test_every_run_gets_a_fresh_context():
    loader = ReferenceLoader()
    first = loader.run(Program("one", {"program": "globalThis.leaked = 1; print(typeof leaked);"},
                               "program", 5.0))
    second = loader.run(Program("two", {"program": "print(typeof leaked);"}, "program", 5.0))
    assert (first.stdout, second.stdout) == ("number\n", "undefined\n")


def test_a_substituted_loader_source_is_used():
    patched = ReferenceLoader().js_source.replace("return sandbox ? [root] : paths;",
                                                  "return [];")
    loader = ReferenceLoader(js_source=patched)
    execution = loader.run(Program("x", {"program": "print(1);"}, "program", 5.0))
    assert execution.exit_code == 1 and "cannot find module 'program'" in execution.stderr


def test_the_faithful_loader_passes_every_case_in_cases():
    cases, errors = load_all(discover(CASES), CASES)
    assert not errors
    if not cases:
        pytest.skip("no cases written yet")
    for loader in (ReferenceLoader(), ReferenceLoader(sandbox=True)):
        for case in cases:
            verdict = run_case(case, loader, "1.1.1")
            assert verdict.outcome in (Outcome.PASS, Outcome.SKIP), (loader.name, verdict)


# ---------------------------------------------------------------------------- exec_tree

def write(root: Path, files: dict) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_exec_tree_runs_a_directory(tmp_path):
    write(tmp_path, {
        "lib/math.js": "exports.add = function (a, b) { return a + b; };\n",
        "program.js": """\
            var math = require('lib/math');
            print(math.add(1, 2), module.id, require.paths[0] === ROOT);
            print(module.uri);
            print(require('./lib/math') === math);
            """.replace("ROOT", repr(str(tmp_path))),
    })
    execution = exec_tree(tmp_path, "program")
    assert execution.ending is Ending.EXITED and execution.exit_code == 0, execution
    assert execution.stdout.splitlines() == ["3 program true", (tmp_path / "program.js").as_uri(),
                                             "true"]


def test_exec_tree_uris_are_percent_encoded_like_as_uri(tmp_path):
    write(tmp_path, {"we ird/a#b;c(d)!.js": "exports.uri = module.uri;\n",
                     "program.js": "print(require('we ird/a#b;c(d)!').uri);\n"})
    execution = exec_tree(str(tmp_path), "program")
    assert execution.stdout == (tmp_path / "we ird" / "a#b;c(d)!.js").as_uri() + "\n"


def test_exec_tree_reports_an_uncaught_error(tmp_path):
    write(tmp_path, {"program.js": "print('before');\nrequire('missing');\n"})
    execution = exec_tree(tmp_path, "program")
    assert execution.exit_code == 1 and execution.stdout == "before\n"
    assert "cannot find module 'missing'" in execution.stderr


def test_exec_tree_in_a_sandbox(tmp_path):
    write(tmp_path, {"program.js": "print('paths' in require, 'uri' in module);\n"})
    assert exec_tree(tmp_path, "program").stdout == "true true\n"
    assert exec_tree(tmp_path, "program", sandbox=True).stdout == "false false\n"


def test_exec_tree_nested_main_and_timeout(tmp_path):
    write(tmp_path, {"bin/start.js": "print(module.id, require.main === module);\nfor (;;) {}\n"})
    execution = exec_tree(tmp_path, "bin/start", timeout=0.2)
    assert execution.ending is Ending.TIMED_OUT and execution.stdout == "bin/start true\n"


def test_exec_tree_refuses_bad_roots_and_missing_mains(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        exec_tree(tmp_path / "nowhere", "program")
    write(tmp_path, {"program.js": "print(1);\n"})
    with pytest.raises(ValueError, match="no main module 'other'"):
        exec_tree(tmp_path, "other")
    with pytest.raises(ValueError, match="without .js"):
        exec_tree(tmp_path, "program.js")
    with pytest.raises(ValueError, match="no main module"):
        exec_tree(tmp_path, "../program")


def test_exec_tree_does_not_follow_links_out_of_the_root(tmp_path):
    outside = write(tmp_path / "outside", {"secret.js": "exports.secret = 1;\n"})
    root = write(tmp_path / "root", {
        "inner/real.js": "exports.real = 1;\n",
        "program.js": """\
            print(require('alias').real, require('linked/real').real);
            try { require('escape'); print('escaped'); } catch (e) { print('kept in'); }
            try { require('away/secret'); print('escaped'); } catch (e) { print('kept in'); }
            """,
    })
    os.symlink(root / "inner" / "real.js", root / "alias.js")
    os.symlink(root / "inner", root / "linked")
    os.symlink(root, root / "inner" / "loop")
    os.symlink(outside / "secret.js", root / "escape.js")
    os.symlink(outside, root / "away")
    execution = exec_tree(root, "program")
    assert execution.stdout.splitlines() == ["1 1", "kept in", "kept in"], execution


def test_exec_tree_bounds_what_it_reads(tmp_path, monkeypatch):
    import conformance.reference.tree as reference
    write(tmp_path, {"program.js": "print(1);\n", "a.js": "", "b.js": ""})
    monkeypatch.setattr(reference, "MAX_TREE_FILES", 2)
    with pytest.raises(ValueError, match=r"more than 2 \.js files"):
        exec_tree(tmp_path, "program")
    monkeypatch.setattr(reference, "MAX_TREE_FILES", 20_000)
    monkeypatch.setattr(reference, "MAX_TREE_BYTES", 5)
    with pytest.raises(ValueError, match="exceed"):
        exec_tree(tmp_path, "program")


def test_a_worker_that_died_is_a_crash_and_the_next_run_gets_a_new_one(monkeypatch):
    import os
    import signal as signals

    from conformance.reference import process
    from conformance.transport import Channel

    loader = ReferenceLoader()
    program = Program("w", {"program": "print('fine');"}, "program", 5.0)
    assert loader.run(program).stdout == "fine\n"  # an idle worker now exists
    dead = process.POOL.idle[-1]
    os.kill(dead.proc.pid, signals.SIGKILL)
    dead.proc.wait()
    with monkeypatch.context() as patch:  # as if it died between the check and the call
        patch.setattr(Channel, "usable", lambda self: True)
        crashed = loader.run(program)
    assert crashed.ending is Ending.CRASHED
    assert "the QuickJS worker process died (signal SIGKILL)" in crashed.diagnostic
    assert loader.run(program).stdout == "fine\n"
