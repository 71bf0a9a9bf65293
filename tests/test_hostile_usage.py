"""Hostile command lines, case files and results files met by the command line: no run turns
green on nothing, no case file writes a command, no option or file gives a traceback."""

import json
import subprocess

import pytest

from conformance.cli import main
from conformance.exitcodes import ExitCode
from conformance.results import Results, read, write
from tests.test_cli import BROKEN, GOOD
from tests.test_nothing_lost import case_dir as cases

GROUP = "Options and reports"

#: GOOD, for sandboxes only: never applicable to a loader that is none.
SANDBOX_ONLY = GOOD.replace(
    "title: A required module's exports come back from require\n",
    "title: Only for sandboxes, so never applicable to a loader that is none\n", 1).replace(
    "modules:\n", "sandbox: true\nmodules:\n", 1)

#: BROKEN with a title full of shell syntax.
BROKEN_TITLE = BROKEN.replace(
    "title: An assertion that cannot hold, to see the run fail",
    'title: "a failing case; touch PWNED $(touch PWNED2) `touch PWNED3`"')




def status(argv):
    """main()'s exit status, also where argparse exits by itself."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def test_a_run_where_every_case_was_not_applicable_is_no_success(tmp_path, capsys, hostile):
    root = cases(tmp_path / "cases", **{"sandbox/one": SANDBOX_ONLY, "sandbox/two": SANDBOX_ONLY})
    known = tmp_path / "e.yaml"
    known.write_text('loader: reference\nspec: "1.1.1"\nfailures: {}\n')
    for extra in ([], ["--expectations", str(known)]):
        assert main(["--cases", str(root), *extra]) == ExitCode.NOTHING_TESTED
        said = capsys.readouterr().err.strip().splitlines()[-1]
        assert said == "nothing was tested: all 2 cases were not applicable to reference (no " \
                       "case passed); exit 8"
    hostile("A run must not turn green by accident", "a run in which every case is not "
            "applicable and none passed (also with an expectations file recording nothing)",
            f"exit 8, not 0: `{said}`")


def test_a_title_with_shell_syntax_never_becomes_a_command(tmp_path, capsys, hostile):
    root = cases(tmp_path / "cases", **{"area/title": BROKEN_TITLE})
    kept = tmp_path / "kept"
    assert main(["--cases", str(root), "--keep-failed", str(kept)]) == ExitCode.FAILED
    script = kept / "area" / "title" / "rerun.sh"
    lines = script.read_text(encoding="utf-8").split("\n")
    assert len(lines) == 8 and lines[-1] == ""
    assert lines[0] == "#!/bin/sh" and lines[1].startswith("# area/title: a failing case; touch")
    assert all(line.startswith("# ") for line in lines[2:5])
    assert lines[5].startswith("cd ") and lines[6].startswith("exec ")
    run = tmp_path / "elsewhere"
    run.mkdir()
    subprocess.run(["sh", str(script)], cwd=run, capture_output=True, timeout=60)
    assert sorted(p.name for p in run.iterdir()) == []  # no PWNED, PWNED2 or PWNED3
    hostile("Case files", "a case title with `;`, `$(...)` and backquotes, kept with "
            "`--keep-failed` (a title with a line break is refused as malformed)",
            "rerun.sh holds it as one comment line; running rerun.sh runs only the quoted "
            "command")


@pytest.mark.parametrize("argv, words", [
    (["--timeout", "nan"], "a time limit must be finite, not nan"),
    (["--timeout", "inf"], "a time limit must be finite, not inf"),
    (["--timeout", "0"], "a time limit is from 0.1 to 86400 seconds, not 0"),
    (["--timeout", "1e-9"], "a time limit is from 0.1 to 86400 seconds, not 1e-09"),
    (["--timeout", "-5"], "a time limit is from 0.1 to 86400 seconds, not -5"),
    (["-j", "0"], "0 cases at once runs nothing; give 1 or more"),
    (["-j", "-3"], "-3 cases at once runs nothing; give 1 or more"),
    (["--loader-cmd", ""], "--loader-cmd is empty"),
    (["--loader", ""], "--loader is empty"),
    (["--loader-cmd", "node x.js {root}", "--loader-name", ""], "--loader-name is empty"),
    (["--loader", "sys:exit"], "sys:exit is the built-in 'exit', not a loader class"),
    (["--loader", "os:abort"], "os:abort is the built-in 'abort', not a loader class"),
    (["--loader", "json:dumps"], "json:dumps failed to start: TypeError"),
    (["--json", "X", "--junit", "X"], "--junit and --json name the same file X"),
    (["--junit", "X", "--write-expectations", "X"],
     "--write-expectations and --junit name the same file X"),
    (["--json", "X", "--expectations", "X"], "--expectations and --json name the same file X"),
])
def test_options_that_cannot_work_are_refused_before_the_run(tmp_path, monkeypatch, capsys,
                                                             hostile, argv, words):
    monkeypatch.chdir(tmp_path)
    code = status(["--cases", str(cases(tmp_path / "cases", **{"sandbox/one": SANDBOX_ONLY})),
                   *argv])
    captured = capsys.readouterr()
    assert code == ExitCode.USAGE_ERROR
    assert words in captured.err and "Traceback" not in captured.err
    assert captured.out == "" and sorted(p.name for p in tmp_path.iterdir()) == ["cases"]
    shown = " ".join(repr(a) if not a else a for a in argv)
    hostile(GROUP, f"`{shown}`", f"exit 4 before anything runs: `{words}`")


def test_exec_refuses_a_time_limit_that_cannot_work(tmp_path, capsys):
    (tmp_path / "program.js").write_text("print('hi');\n")
    with pytest.raises(SystemExit) as stop:
        main(["exec", str(tmp_path), "program", "--timeout", "nan"])
    assert stop.value.code == ExitCode.USAGE_ERROR
    assert "a time limit must be finite" in capsys.readouterr().err


def header(**changes):
    data = {"format": 2, "suite": "0.1", "loader": "reference", "spec": "1.1.1",
            "sandbox": False, "planned": ["a/b"], "features": {}}
    data.update(changes)
    return json.dumps(data)


VERDICT = {"id": "a/b", "clauses": ["c"], "outcome": "pass", "kind": "", "message": "",
           "seconds": 0.1, "details": [], "blame": []}

MALFORMED = [
    ("an empty file", "", "r.json: empty: not a results file"),
    ("another program's JSON Lines", '{"a": 1}\n{"b": 2}\n',
     "r.json:1: not a results file of format 2"),
    ("a JSON list on the first line", "[1, 2]\n", "r.json:1: not a results file of format 2"),
    ("a line that is not JSON in the middle",
     header() + "\nnot json\n" + json.dumps(VERDICT) + "\n",
     "r.json:2: not a JSON line: not a results file"),
    ("a verdict line that is a list", header() + "\n[1]\n" + json.dumps(VERDICT) + "\n",
     "r.json:2: a line of a results file is a JSON object"),
    ("an unknown outcome", header() + "\n" + json.dumps({**VERDICT, "outcome": "green"}) + "\n"
     + json.dumps({"end": True, "complete": True, "seconds": 1}) + "\n",
     "r.json:2: outcome 'green' is not one of pass"),
    ("seconds as a string", header() + "\n" + json.dumps({**VERDICT, "seconds": "fast"})
     + "\n{}\n", "r.json:2: field 'seconds' must be a finite number"),
    ("seconds NaN", header() + "\n" + json.dumps({**VERDICT, "seconds": float("nan")}) + "\n{}\n",
     "r.json:2: field 'seconds' must be a finite number"),
    ("clauses as a number", header() + "\n" + json.dumps({**VERDICT, "clauses": 3}) + "\n{}\n",
     "r.json:2: field 'clauses' must be a list of strings"),
    ("a verdict without an id", header() + "\n"
     + json.dumps({k: v for k, v in VERDICT.items() if k != "id"}) + "\n{}\n",
     "r.json:2: no field 'id'"),
    ("a header whose loader is a number", header(loader=7) + "\n",
     "r.json:1: field 'loader' must be a string"),
    ("features that are not a mapping", header(features=[1]) + "\n",
     "r.json:1: field 'features' must map names to strings"),
    ("an end line whose complete is a string", header() + "\n"
     + json.dumps({"end": True, "complete": "yes", "seconds": 1}) + "\n",
     "r.json:2: field 'complete' must be true or false"),
]


@pytest.mark.parametrize("tried, text, words", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_report_on_a_malformed_results_file_is_one_line(tmp_path, monkeypatch, capsys, hostile,
                                                        tried, text, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.json").write_text(text, encoding="utf-8")
    code = main(["report", "r.json", "-o", "REPORT.md"])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE_ERROR
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"runner.py report: {words}")
    assert not (tmp_path / "REPORT.md").exists()
    hostile(GROUP, f"`report` on a results file with {tried}", f"exit 4, one line: `{err.strip()}`")


def test_report_on_binary_garbage_and_on_a_directory(tmp_path, monkeypatch, capsys, hostile):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.json").write_bytes(b"\xff\xfe\x00garbage\x80")
    (tmp_path / "d.json").mkdir()
    for name, words in (("r.json", "r.json: not UTF-8 text"), ("d.json", "d.json: Is a directory")):
        assert main(["report", name]) == ExitCode.USAGE_ERROR
        err = capsys.readouterr().err
        assert err == f"runner.py report: {words}" + err[len(f"runner.py report: {words}"):]
        assert err.count("\n") == 1
    hostile(GROUP, "`report` on binary garbage, and on a directory",
            "exit 4, one line each: `runner.py report: r.json: not UTF-8 text: not a results "
            "file`, `runner.py report: d.json: Is a directory`")


def test_a_results_file_still_reads_back_after_a_round_trip(tmp_path):
    from conformance.outcomes import Outcome, Verdict

    verdict = Verdict("a/b", ("c",), Outcome.FAIL, "m", 0.5, ("d",), "assertion-failed", ("c",))
    path = tmp_path / "r.json"
    write(Results("0.1", "reference", "1.1.1", True, (verdict,), 1.0, True, ("a/b",),
                  {"require.main": "unknown"}), path)
    back = read(path)
    assert back.verdicts == (verdict,) and back.complete and back.sandbox
    assert back.features == {"require.main": "unknown"}


def test_a_spec_read_as_a_number_is_told_to_be_quoted(tmp_path, capsys, hostile):
    root = cases(tmp_path / "cases", **{"area/good": GOOD})
    known = tmp_path / "known.yaml"
    known.write_text("loader: reference\nspec: 1.1\nfailures: {}\n")
    assert main(["--cases", str(root), "--expectations", str(known)]) == \
        ExitCode.EXPECTATIONS_ERROR
    said = capsys.readouterr().err.strip()
    assert said.endswith("known.yaml:2: spec: 1.1 is read as a number, not one of '1.0', "
                         "'1.1', '1.1.1'; quote it: spec: \"1.1\"")
    hostile(GROUP, "an expectations file with `spec: 1.1` unquoted (YAML reads a number)",
            f"exit 7, one line telling to quote it: `{said}`")


@pytest.mark.parametrize("expression", ["cycles and", "__import__('os').system('touch x')",
                                        "not", "((cycles)"])
def test_a_k_expression_is_parsed_never_evaluated(tmp_path, capsys, hostile, expression):
    root = cases(tmp_path / "cases", **{"area/good": GOOD})
    assert status(["--cases", str(root), "-k", expression]) == ExitCode.USAGE_ERROR
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and said.startswith(f"runner.py: error: -k {expression!r}: ")
    assert " at position " in said and not (tmp_path / "x").exists()
    hostile(GROUP, f"-k {expression!r}", f"exit 4, nothing run: `{said.strip()}`")
