"""`exec CASE-ID`: one case of the suite run on a loader and judged; `exec ROOT MAIN` still runs
a module tree by hand."""

import pytest

from conformance.cli import main
from conformance.exitcodes import ExitCode
from tests.test_cli import BROKEN, GOOD

SANDBOX_ONLY = GOOD.replace("modules:\n", "sandbox: true\nmodules:\n", 1)


def cases(where, **files):
    """A case directory: case id (with / for folders) -> YAML text."""
    for case_id, text in files.items():
        path = where / f"{case_id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return where


def status(argv):
    """main()'s exit status, also where argparse exits by itself."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def test_a_passing_case_is_judged_and_shown_with_what_it_printed(capsys):
    assert main(["exec", "cycles/partial-exports"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "1 case, loader reference, Modules/1.1.1" in out
    assert "PASS     cycles/partial-exports" in out
    assert "---- stdout ----\nFEATURES " in out and "\nPASS 1 " in out and "\nDONE " in out
    assert out.rstrip().splitlines()[-1].startswith("reference, Modules/1.1.1: 1 passed, 0 failed")


def test_a_failing_case_shows_its_assertion_and_exits_as_a_failed_run(tmp_path, capsys):
    root = cases(tmp_path / "cases", **{"area/broken": BROKEN, "area/good": GOOD})
    assert main(["exec", "area/broken", "--cases", str(root)]) == ExitCode.FAILED
    out = capsys.readouterr().out
    assert "FAIL     area/broken" in out and "assertion 1 failed: one is two" in out
    assert "\nFAIL 1 one is two: expected number 2, got number 1\n" in out  # the program's own
    assert "1 case," in out  # only that case ran, not its neighbour
    assert main(["exec", "area/good", "--cases", str(root), "--spec", "1.0"]) == ExitCode.OK
    assert "Modules/1.0" in capsys.readouterr().out


def test_a_case_that_does_not_apply_tested_nothing(tmp_path, capsys):
    root = cases(tmp_path / "cases", **{"sandbox/only": SANDBOX_ONLY})
    assert main(["exec", "sandbox/only", "--cases", str(root)]) == ExitCode.NOTHING_TESTED
    captured = capsys.readouterr()
    assert "SKIP     sandbox/only" in captured.out and "only to sandboxes" in captured.out
    assert "nothing was tested: sandbox/only is not applicable to reference" in captured.err
    assert main(["exec", "sandbox/only", "--cases", str(root), "--sandbox"]) == ExitCode.OK


@pytest.mark.parametrize("case_id", ["area/none", "../cases/area/broken", "area/.broken", "area/broken/"])
def test_an_id_that_names_no_case_is_one_line(tmp_path, capsys, case_id):
    root = cases(tmp_path / "cases", **{"area/broken": BROKEN})
    assert status(["exec", case_id, "--cases", str(root)]) == ExitCode.NO_CASES
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"no case {case_id!r} under {root}" in err[0]


def test_a_malformed_case_is_named_and_nothing_runs(tmp_path, capsys):
    root = cases(tmp_path / "cases", **{"area/bad": "title: x\nclauses: [nope]\nmodules: {}\n"})
    assert main(["exec", "area/bad", "--cases", str(root)]) == ExitCode.CASE_ERROR
    captured = capsys.readouterr()
    assert "bad.yaml" in captured.err and captured.out == ""


def test_a_directory_is_a_module_tree_run_by_hand(tmp_path, capsys):
    tree = tmp_path / "area" / "broken"
    tree.mkdir(parents=True)
    (tree / "program.js").write_text("print('by hand');\n")
    assert main(["exec", str(tree), "program"]) == ExitCode.OK
    assert capsys.readouterr().out == "by hand\n"
    assert status(["exec", str(tree)]) == ExitCode.USAGE_ERROR
    assert "is a directory: give the id of its main module" in capsys.readouterr().err
    assert status(["exec", str(tree), "program", "--cases", str(tmp_path)]) == \
        ExitCode.USAGE_ERROR
    assert "--cases and --spec go with a case id" in capsys.readouterr().err
