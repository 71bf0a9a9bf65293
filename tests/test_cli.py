"""The command line end to end: runs, selections, results JSON, bad input, exec."""

import subprocess
import sys
import textwrap

import pytest

from conformance.caseload import default_root, discover
from conformance.results import read, verdict_json
from conformance.cli import main
from conformance.exitcodes import ExitCode

GOOD = """\
title: A required module's exports come back from require
clauses: [require.returns-exports]
modules:
  program: |
    var t = require('conformanceHarness').start(require);
    t.same(require('thing').value, 42, 'require returns what the module exported');
    t.done();
  thing: |
    exports.value = 42;
"""

BROKEN = """\
title: An assertion that cannot hold, to see the run fail
clauses: [require.returns-exports]
modules:
  program: |
    var t = require('conformanceHarness').start(require);
    t.same(1, 2, 'one is two');
    t.done();
"""


def results_of(path):
    """A results file as one document: the run's fields and its cases."""
    r = read(path)
    return {"suite": r.suite, "loader": r.loader, "spec": r.spec, "sandbox": r.sandbox,
            "complete": r.complete, "cases": [verdict_json(v) for v in r.verdicts]}


def write_case(root, case_id, text):
    path = root / f"{case_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_whole_suite_passes_and_writes_json(repo, tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "runner.py", "--json", str(out)], cwd=repo,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
    data = results_of(out)
    assert data["loader"] == "reference" and data["spec"] == "1.1.1" and data["suite"]
    ids = [c["id"] for c in data["cases"]]
    assert len(ids) == len(discover(default_root())) > 0
    for case in data["cases"]:
        assert set(case) >= {"id", "clauses", "outcome", "message", "seconds"}
        assert case["outcome"] in ("pass", "warn", "skip"), case
    assert "0 failed" in proc.stdout


def test_keyword_selects_by_id(tmp_path, capsys):
    write_case(tmp_path, "alpha/good", GOOD)
    write_case(tmp_path, "beta/good", GOOD)
    out = tmp_path / "r.json"
    assert main(["--cases", str(tmp_path), "-k", "alpha", "--json", str(out)]) == ExitCode.OK
    assert [c["id"] for c in results_of(out)["cases"]] == ["alpha/good"]
    assert main(["--cases", str(tmp_path), "-k", "gamma"]) == ExitCode.NO_CASES


def test_failing_case_fails_the_run_and_is_shown(tmp_path, capsys):
    write_case(tmp_path, "area/good", GOOD)
    write_case(tmp_path, "area/broken", BROKEN)
    assert main(["--cases", str(tmp_path)]) == ExitCode.FAILED
    shown = capsys.readouterr().out
    assert "FAIL area/broken [require.returns-exports]" in shown
    assert "assertion 1 failed: one is two: expected number 2, got number 1" in shown
    assert "1 passed, 1 failed" in shown


def test_malformed_case_is_one_line_and_nothing_runs(tmp_path, capsys):
    write_case(tmp_path, "area/good", GOOD)
    write_case(tmp_path, "area/bad", GOOD.replace("clauses: [require.returns-exports]",
                                                  "clauses: [require.returns-exports]\ncolour: red"))
    assert main(["--cases", str(tmp_path)]) == ExitCode.CASE_ERROR
    captured = capsys.readouterr()
    first = captured.err.splitlines()[0]
    assert first.endswith("area/bad.yaml:3: colour: unknown key (allowed: clauses, files, main, "
                          "modules, needs, notes, relies, sandbox, title, versions)")
    assert "Traceback" not in captured.err and captured.out == ""


def test_unknown_loader_is_a_usage_error(capsys):
    assert main(["--loader", "nonesuch"]) == ExitCode.USAGE_ERROR
    assert "unknown loader 'nonesuch'" in capsys.readouterr().err


def test_bad_option_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        main(["--spec", "2.0"])
    assert exc.value.code == ExitCode.USAGE_ERROR


def test_sandbox_loader_skips_non_sandbox_cases(tmp_path):
    write_case(tmp_path, "area/good", GOOD)
    write_case(tmp_path, "area/open", GOOD + "sandbox: false\n")
    out = tmp_path / "r.json"
    assert main(["--cases", str(tmp_path), "--loader", "reference-sandbox",
                 "--json", str(out)]) == ExitCode.OK
    outcomes = {c["id"]: c["outcome"] for c in results_of(out)["cases"]}
    assert outcomes == {"area/good": "pass", "area/open": "skip"}


def exec_tree(repo, root, *args):
    return subprocess.run([sys.executable, "runner.py", "exec", str(root), *args], cwd=repo,
                          capture_output=True, text=True, timeout=120)


def test_exec_runs_a_module_tree(repo, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "math.js").write_text("exports.add = function (a, b) { return a + b; };\n")
    (tmp_path / "program.js").write_text(textwrap.dedent("""\
        var add = require('lib/math').add;
        print(add(1, 2) === 3 ? 'PASS' : 'FAIL', 'add');
        print('DONE');
        """))
    proc = exec_tree(repo, tmp_path, "program")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "PASS add\nDONE\n"


def test_exec_reports_an_uncaught_error(repo, tmp_path):
    (tmp_path / "program.js").write_text("print('before');\nrequire('missing');\nprint('after');\n")
    proc = exec_tree(repo, tmp_path, "program")
    assert proc.returncode == ExitCode.FAILED
    assert proc.stdout == "before\n"
    assert "missing" in proc.stderr and "Traceback" not in proc.stderr


def test_exec_sandbox_has_no_paths(repo, tmp_path):
    (tmp_path / "program.js").write_text("print('paths' in require, 'uri' in module);\n")
    assert exec_tree(repo, tmp_path, "program").stdout == "true true\n"
    assert exec_tree(repo, tmp_path, "program", "--sandbox").stdout == "false false\n"


def test_exec_bad_root_is_a_usage_error(repo, tmp_path):
    proc = exec_tree(repo, tmp_path / "nowhere", "program")
    assert proc.returncode == ExitCode.USAGE_ERROR
    assert "nowhere" in proc.stderr and "Traceback" not in proc.stderr


def test_expectations_gate_a_run_end_to_end(tmp_path, capsys):
    """Record a loader's failures, pass against them, fail on any change."""
    import xml.etree.ElementTree as ET

    import yaml

    known = tmp_path / "known.yaml"
    args = ["--loader", "mutant:no-cache"]
    assert main(args + ["--write-expectations", str(known)]) == ExitCode.OK  # written
    recorded = yaml.safe_load(known.read_text())
    assert recorded["loader"] == "mutant:no-cache" and recorded["spec"] == "1.1.1"
    assert "require/singleton" in recorded["failures"]

    junit = tmp_path / "junit.xml"
    assert main(args + ["--expectations", str(known), "--junit", str(junit)]) == ExitCode.OK
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == suite.get("errors") == "0"  # JUnit agrees with the gate
    assert int(suite.get("skipped")) >= len(recorded["failures"])

    capsys.readouterr()
    fewer = dict(recorded, failures=dict(recorded["failures"]))
    del fewer["failures"]["require/singleton"]
    known.write_text(yaml.safe_dump(fewer))
    assert main(args + ["--expectations", str(known)]) == ExitCode.FAILED
    assert "NEW FAIL require/singleton" in capsys.readouterr().out

    stale = dict(recorded, failures=dict(recorded["failures"], **{
        "require/no-such-case": {"outcome": "fail", "kind": "assertion-failed",
                                 "reason": "gone"}}))
    known.write_text(yaml.safe_dump(stale))
    assert main(args + ["--expectations", str(known)]) == ExitCode.FAILED
    assert "UNKNOWN CASE require/no-such-case" in capsys.readouterr().out

    known.write_text(yaml.safe_dump(recorded))
    assert main(["--expectations", str(known)]) == ExitCode.EXPECTATIONS_ERROR  # not reference's
    assert "known.yaml:" in capsys.readouterr().err
    assert main(args + ["-k", "cycles", "--write-expectations", str(known)]) == \
        ExitCode.USAGE_ERROR


def test_a_plain_run_keeps_no_verdict_and_views_that_list_cases_get_them(tmp_path, monkeypatch,
                                                                         capsys):
    """Memory flat in the number of cases: the summary is drawn from the tally; only JUnit
    XML and expectations, which list every case, make the run keep every verdict."""
    import conformance.terminal as terminal

    write_case(tmp_path, "area/good", GOOD)
    write_case(tmp_path, "area/broken", BROKEN)
    seen = []
    monkeypatch.setattr(terminal, "summary", lambda results, out, *rest: seen.append(results))
    assert main(["--cases", str(tmp_path), "-j", "1"]) == ExitCode.FAILED
    assert main(["--cases", str(tmp_path), "-j", "1", "--junit", str(tmp_path / "j.xml")]) == \
        ExitCode.FAILED
    plain, listed = seen
    assert plain.verdicts == () and plain.tally.done == 2 and not plain.ok
    assert [v.case for v in plain.tally.shown] == ["area/broken"]
    assert [v.case for v in listed.verdicts] == ["area/broken", "area/good"]


def test_a_case_file_broken_while_the_suite_runs_stops_it(tmp_path, monkeypatch, capsys):
    from conformance import caseload
    from conformance.caseload import Suite

    monkeypatch.setattr(caseload, "KEEP_CHARACTERS", 0)  # a kept case is not read again

    for name in ("area/a", "area/b", "area/c"):
        write_case(tmp_path, name, GOOD)
    check = Suite.check

    def check_then_break(suite):
        errors = check(suite)
        write_case(tmp_path, "area/b", "title: [never closed\n")
        return errors

    monkeypatch.setattr(Suite, "check", check_then_break)
    out = tmp_path / "r.json"
    assert main(["--cases", str(tmp_path), "-j", "1", "--json", str(out)]) == \
        ExitCode.CASE_ERROR
    err = capsys.readouterr().err.splitlines()
    assert err[-2].endswith("area/b.yaml:2: invalid YAML: while parsing a flow sequence "
                            "expected ',' or ']', but got '<stream end>'")
    assert err[-1] == ("runner.py: a case file changed while the suite ran and is now "
                       "malformed: stopped after 1 of 3 cases; the next was area/b")
    results = read(out)
    assert not results.complete and [v.case for v in results.verdicts] == ["area/a"]


def test_help_lists_every_subcommand_with_what_it_does(capsys, monkeypatch):
    from conformance.cli import COMMANDS

    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/commonjs-conformance"])
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith("usage: commonjs-conformance [run] ")
    assert "commands (`commonjs-conformance COMMAND --help` for each; run is the default):" \
        in shown
    for name, (_, about) in COMMANDS.items():
        assert f"\n  {name:9} {about}\n" in shown


@pytest.mark.parametrize("called, shown", [("runner.py", "runner.py"),
                                           ("commonjs-conformance", "commonjs-conformance")])
def test_usage_names_the_command_as_it_was_called(repo, tmp_path, called, shown):
    program = [sys.executable, "runner.py"] if called == "runner.py" else \
        [sys.executable, "-c", "import sys; from conformance.cli import main; "
         "sys.argv[0] = 'commonjs-conformance'; sys.exit(main())"]
    for command in ("exec", "summary"):  # every subcommand parses with the one Parser
        proc = subprocess.run([*program, command, "--no-such-option"], cwd=repo,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == ExitCode.USAGE_ERROR
        assert proc.stderr.startswith(f"usage: {shown} {command} ")
        assert f"\n{shown} {command}: error: " in proc.stderr


def test_runner_py_without_its_dependencies_says_to_install_them(repo):
    """python -S has no site-packages: no pyyaml, quickjs or jsonschema, as in a fresh clone."""
    proc = subprocess.run([sys.executable, "-S", "runner.py", "--help"], cwd=repo,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == ExitCode.USAGE_ERROR and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("runner.py: pyyaml, quickjs, jsonschema not installed for ")
    assert proc.stderr.rstrip().endswith(" -m pip install -e .")


SWALLOWS_ITS_INTERRUPT = '''
import os, signal, time
from conformance.contract import Capabilities, Declaration, Execution


class Swallower:
    """Asks for Ctrl-C on its third case and swallows it, as an at-fork hook does."""
    name = "swallower"
    declaration = Declaration()
    capabilities = Capabilities(waits_on_process=True)  # run() in the runner's own thread
    calls = 0

    def run(self, program):
        Swallower.calls += 1
        if Swallower.calls == 3:
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)
            except KeyboardInterrupt:
                pass
        return Execution(stdout="")
'''


def test_a_ctrl_c_swallowed_where_it_landed_still_stops_the_run(tmp_path, monkeypatch):
    (tmp_path / "swallower.py").write_text(SWALLOWS_ITS_INTERRUPT)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "r.json"
    status = main(["--loader", "swallower:Swallower", "-j", "1", "--json", str(out)])
    results = read(out)
    assert status == ExitCode.INTERRUPTED
    assert not results.complete and 2 <= len(results.verdicts) <= 4


# --- --profile node (docs/node-profile.md), on the tests' own catalogue and cases ------------

from tests.node_profile import CASES as PROFILE_CASES, node_catalogue  # noqa: E402,F401

needs_node = pytest.mark.skipif(__import__("shutil").which("node") is None,
                                reason="node is not installed")


@needs_node
def test_a_profile_run_on_node_passes_fails_and_warns_as_its_cases_say(node_catalogue, tmp_path,
                                                                        capsys):
    out, junit_xml, kept = tmp_path / "r.json", tmp_path / "j.xml", tmp_path / "kept"
    status = main(["--profile", "node", "--loader", "node", "--cases", str(PROFILE_CASES),
                   "--json", str(out), "--junit", str(junit_xml), "--keep-failed", str(kept)])
    assert status == ExitCode.FAILED
    data = results_of(out)
    assert (data["loader"], data["spec"]) == ("node", "node")
    assert {c["id"]: c["outcome"] for c in data["cases"]} == {
        "node/exports/replace-with-function": "pass",
        "node/lookup/exact-wrong-on-purpose": "fail",
        "node/module/parent-wrong-on-purpose": "warn",
        "node/nested/main-in-a-subdirectory": "pass"}
    assert 'name="commonjs-conformance node node profile"' in junit_xml.read_text()
    rerun = (kept / "node/lookup/exact-wrong-on-purpose/rerun.sh").read_text()
    assert "--profile node" in rerun and "--spec" not in rerun
    assert (kept / "node/lookup/exact-wrong-on-purpose/x.js").is_file()
    capsys.readouterr()
    assert main(["exec", "node/lookup/exact-wrong-on-purpose", "--loader", "node",
                 "--cases", str(PROFILE_CASES)]) == ExitCode.FAILED
    assert "FAIL     node/lookup/exact-wrong-on-purpose" in capsys.readouterr().out
    # The default run of the same directory: its one spec case, none of the profile's.
    assert main(["--cases", str(PROFILE_CASES), "--json", str(out)]) == ExitCode.OK
    assert [c["id"] for c in results_of(out)["cases"]] == ["require/returns-exports"]


def test_profile_selection_listing_and_refusals(node_catalogue, tmp_path, capsys):
    cases = ["--profile", "node", "--cases", str(PROFILE_CASES)]
    assert main(cases + ["--list", "--clause", "node.module.parent"]) == ExitCode.OK
    assert capsys.readouterr().out.startswith("node/module/parent-wrong-on-purpose  ")
    assert main(cases + ["--list", "-k", "nested or exports"]) == ExitCode.OK
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == [
        "node/exports/replace-with-function", "node/nested/main-in-a-subdirectory"]
    assert main(cases + ["--list", "--clause", "require.function"]) == ExitCode.USAGE_ERROR
    assert "no such clause in the node profile's catalogue" in capsys.readouterr().err
    assert main(cases + ["--spec", "1.1.1"]) == ExitCode.USAGE_ERROR
    err = capsys.readouterr().err
    assert "not both" in err and len(err.splitlines()) == 1
    assert main(cases + ["--loader", "rhino"]) == ExitCode.USAGE_ERROR
    err = capsys.readouterr().err
    assert "does not declare the node profile" in err and len(err.splitlines()) == 1


@needs_node
def test_an_expectations_file_of_the_other_profile_is_refused(node_catalogue, tmp_path,
                                                              capsys):
    mine = ["--loader-cmd", "node {main_file}", "--loader-name", "mine"]
    profile = ["--profile", "node", "--cases", str(PROFILE_CASES)] + mine
    recorded = tmp_path / "spec.yaml"
    assert main(["--cases", str(PROFILE_CASES), "--write-expectations", str(recorded)]
                + mine) == ExitCode.OK
    capsys.readouterr()
    assert main(profile + ["--expectations", str(recorded)]) == ExitCode.EXPECTATIONS_ERROR
    assert "the expectations are for Modules/1.1.1, the run targets node profile" in \
        capsys.readouterr().err
    node_file = tmp_path / "node.yaml"
    assert main(profile + ["--write-expectations", str(node_file)]) == ExitCode.OK
    text = node_file.read_text()
    assert 'spec: "node"' in text and "node/lookup/exact-wrong-on-purpose" in text
    assert "node profile" in text
    assert main(profile + ["--expectations", str(node_file)]) == ExitCode.OK
