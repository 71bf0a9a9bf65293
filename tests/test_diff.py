"""`diff A B` end to end: two real runs of the reference loader compared, their changes in order."""

import json

from conformance.cli import main
from conformance.exitcodes import ExitCode
from tests.test_cli import BROKEN, GOOD, write_case

#: A case whose program throws in the part that tests its clause: a fail of kind uncaught-error.
THROWS = """\
title: An error escapes, to see a failure of another kind
clauses: [require.returns-exports]
modules:
  program: |
    var t = require('conformanceHarness').start(require);
    t.ok(true, 'something held');
    throw new Error('boom');
"""


def run_suite(tmp_path, name, cases, *options):
    """Run the reference loader (or the loader the options name) on `cases` (case id -> case
    file text) in a fresh case directory; the results file it wrote."""
    root = tmp_path / f"cases-{name}"
    for case_id, text in cases.items():
        write_case(root, case_id, text)
    out = tmp_path / f"{name}.json"
    main(["--cases", str(root), "--json", str(out), "-j", "1", *options])
    assert out.exists()
    return out


def diff(capsys, *args):
    """`diff` on these arguments: its status, stdout and stderr (what ran before is dropped)."""
    capsys.readouterr()
    status = main(["diff", *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_changes_come_in_order_and_exit_1(tmp_path, capsys):
    a = run_suite(tmp_path, "a", {"area/flip": GOOD, "area/mend": BROKEN, "area/kind": BROKEN,
                                  "area/gone": GOOD, "area/same": GOOD})
    b = run_suite(tmp_path, "b", {"area/flip": BROKEN, "area/mend": GOOD, "area/kind": THROWS,
                                  "area/new": GOOD, "area/same": GOOD})
    status, out, err = diff(capsys, a, b)
    assert status == ExitCode.FAILED, err
    table = out.splitlines()[3:-2]  # after the lines naming A and B and a blank line
    assert table[0].split()[:4] == ["change", "case", "A", "B"] and len(table) == 6
    order = [("new failure", "area/flip"), ("fixed", "area/mend"), ("changed", "area/kind"),
             ("only in A", "area/gone"), ("only in B", "area/new")]
    for line, (change, case) in zip(table[1:], order):
        assert line.startswith(change + " ") and f" {case} " in line, (line, change, case)
    assert "area/same" not in out
    flip = next(line for line in out.splitlines() if "area/flip" in line)
    assert "pass  " in flip and "fail (assertion-failed) blames require.returns-exports" in flip
    assert "one is two" in flip  # B's message: what the new failure says
    kind = next(line for line in out.splitlines() if "area/kind" in line)
    assert kind.startswith("changed") and "uncaught-error" in kind
    assert out.splitlines()[-1] == ("5 verdicts changed: 1 new failure, 1 fixed, 1 changed, "
                                    "1 only in A, 1 only in B")
    assert out.splitlines()[0].startswith("A: reference on Modules/1.1.1")

    status, md, _ = diff(capsys, "--markdown", a, b)
    assert status == ExitCode.FAILED
    assert "| change | case | A | B | message |" in md
    assert ("| new failure | `area/flip` | pass | fail (assertion-failed) blames "
            "require.returns-exports | assertion 1 failed: one is two") in md
    assert "| only in B | `area/new` | — | pass | 1 assertion(s) held |" in md

    assert diff(capsys, "--new-failures", a, b)[0] == ExitCode.FAILED  # area/flip
    c = run_suite(tmp_path, "c", {"area/flip": GOOD, "area/mend": GOOD, "area/kind": THROWS,
                                  "area/gone": GOOD, "area/same": GOOD})
    status, out, _ = diff(capsys, "--new-failures", a, c)  # a fix and a changed failure
    assert status == ExitCode.OK and out.splitlines()[-1] == "2 verdicts changed: 1 fixed, 1 changed"
    assert diff(capsys, a, c)[0] == ExitCode.FAILED


def test_an_unchanged_run_exits_0(tmp_path, capsys):
    a = run_suite(tmp_path, "a", {"area/good": GOOD, "area/broken": BROKEN})
    b = run_suite(tmp_path, "b", {"area/good": GOOD, "area/broken": BROKEN})
    status, out, _ = diff(capsys, a, b)
    assert status == ExitCode.OK
    assert out.splitlines()[-1] == "no verdict changed (2 cases in A, 2 in B)"
    assert len(out.splitlines()) == 4  # A, B, a blank line, the tally: no table


def test_two_loaders_are_compared_and_named(tmp_path, capsys):
    cases = {"area/good": GOOD, "area/open": GOOD + "sandbox: false\n"}
    a = run_suite(tmp_path, "a", cases)
    b = run_suite(tmp_path, "b", cases, "--loader", "reference-sandbox")
    status, out, _ = diff(capsys, a, b)
    assert status == ExitCode.FAILED
    lines = out.splitlines()
    assert lines[0].startswith("A: reference on Modules/1.1.1,")
    assert lines[1].startswith("B: reference-sandbox on Modules/1.1.1 (sandbox),")
    assert "note: the runs are of two loaders" in lines
    opened = next(line for line in lines if "area/open" in line)
    assert opened.split()[:4] == ["changed", "area/open", "pass", "skip"]  # not "fixed"
    assert "area/good" not in out


def test_unreadable_files_are_one_line_and_exit_4(tmp_path, capsys):
    good = run_suite(tmp_path, "a", {"area/good": GOOD})
    bad = tmp_path / "bad.json"
    bad.write_text("{}\n")
    for args, named in (([good, bad], str(bad)), ([tmp_path / "none.json", good], "none.json")):
        status, out, err = diff(capsys, *args)
        assert status == ExitCode.USAGE_ERROR and out == ""
        assert len(err.splitlines()) == 1 and named in err and err.startswith("runner.py diff:")
    # A results file holding one case twice is not one run's.
    lines = good.read_text().splitlines()
    twice = tmp_path / "twice.json"
    twice.write_text("\n".join(lines[:2] + lines[1:2] + lines[2:]) + "\n")
    assert json.loads(lines[1])["id"] == "area/good"
    status, out, err = diff(capsys, good, twice)
    assert status == ExitCode.USAGE_ERROR and out == ""
    assert err == f"runner.py diff: {twice}: case 'area/good' has two verdicts: not the " \
                  "results file of one run\n"
