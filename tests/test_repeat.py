"""--repeat N: each case run N times in a row; a verdict that does not repeat is flaky."""

from conformance.cli import main
from conformance.exitcodes import ExitCode
from conformance.outcomes import Kind, Outcome, Verdict
from conformance.repeat import Repeated, merged
from conformance.results import read
from tests.test_cli import BROKEN, GOOD, write_case


def verdict(case: str, outcome: Outcome, kind: Kind = Kind.NONE) -> Verdict:
    return Verdict(case, ("require.function",), outcome, outcome.value, 0.1, (), kind,
                   ("require.function",) if outcome is Outcome.FAIL else ())


def test_repeated_cases_come_each_n_times_in_a_row():
    assert list(Repeated(["a", "b"], 3)) == ["a", "a", "a", "b", "b", "b"]
    assert len(Repeated(["a", "b"], 3)) == 6 and Repeated(["a", "b"], 3)[-1] == "b"


def test_verdicts_that_repeat_are_one_verdict_and_others_are_flaky():
    fail = verdict("c", Outcome.FAIL, Kind.ASSERTION_FAILED)
    runs = [verdict("a", Outcome.PASS)] * 3 + [verdict("c", Outcome.PASS), fail,
                                               verdict("c", Outcome.PASS)]
    a, c = merged(runs, 3)
    assert a == runs[0]
    assert (c.case, c.outcome, c.kind) == ("c", Outcome.ERROR, Kind.FLAKY)
    assert c.message == ("flaky: run 3 times, it ended pass 2 times, fail (assertion-failed) "
                         "1 time")
    assert c.blame == ("require.function",)


def test_a_flaky_loader_is_told_from_a_stable_one_on_the_command_line(tmp_path):
    root = tmp_path / "cases"
    write_case(root, "area/good", GOOD)
    write_case(root, "area/broken", BROKEN)
    out = tmp_path / "r.json"
    assert main(["--cases", str(root), "--repeat", "3", "-j", "1", "--json", str(out)]) == \
        ExitCode.FAILED
    stable = {v.case: (v.outcome, v.kind) for v in read(out).verdicts}
    assert stable == {"area/good": (Outcome.PASS, Kind.NONE),
                      "area/broken": (Outcome.FAIL, Kind.ASSERTION_FAILED)}
    assert main(["--cases", str(root), "--repeat", "2", "-j", "1", "--json", str(out),
                 "--loader", "tests.fake_loaders.flaky:FlakyLoader"]) == ExitCode.FAILED
    flaky = {v.case: (v.outcome, v.kind) for v in read(out).verdicts}
    assert flaky == {"area/good": (Outcome.ERROR, Kind.FLAKY),
                     "area/broken": (Outcome.ERROR, Kind.FLAKY)}
    assert main(["--cases", str(root), "--repeat", "1", "-j", "1", "--json", str(out),
                 "--loader", "tests.fake_loaders.flaky:FlakyLoader"]) != ExitCode.OK
    assert {v.kind for v in read(out).verdicts} != {Kind.FLAKY}  # one run tells nothing


def test_a_flaky_verdict_is_never_recorded_as_known(tmp_path):
    root = tmp_path / "cases"
    write_case(root, "area/good", GOOD)
    known = tmp_path / "known.yaml"
    main(["--cases", str(root), "--repeat", "2", "-j", "1", "--write-expectations", str(known),
          "--loader", "tests.fake_loaders.flaky:FlakyLoader"])
    assert "area/good" not in known.read_text()
