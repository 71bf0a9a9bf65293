"""A run's results: counted as verdicts arrive (the tally), so that the summary of a run that
kept no passing verdict reads the same as one that kept them all."""

from __future__ import annotations

import io
from dataclasses import replace

from conformance.outcomes import Kind, Outcome, Verdict
from conformance.results import Results, Tally, Writer, read
from conformance.terminal import summary

VERDICTS = (
    Verdict("require/function", ("require.function",), Outcome.PASS, "", 0.02),
    Verdict("module/id-main", ("module.id",), Outcome.FAIL, "assertion 2 failed", 0.5,
            ("FAIL module.id of the main module: got '.'",), Kind.ASSERTION_FAILED),
    Verdict("cycles/partial", ("require.cycles",), Outcome.ERROR, "the loader crashed", 0.1,
            (), Kind.LOADER_CRASHED),
    Verdict("cycles/slow", ("require.cycles",), Outcome.TIMEOUT, "no result within 10 s", 10.0,
            (), Kind.TIMEOUT),
    Verdict("paths/absent", ("require.paths",), Outcome.SKIP, "not applicable", 0.0, (),
            Kind.NOT_APPLICABLE),
    Verdict("module/id-read-only", ("module.id.read-only",), Outcome.WARN, "assigned", 0.03,
            (), Kind.SHOULD_BREACHED),
    Verdict("require/late", ("require.function",), Outcome.PASS, "", 0.01),
)
PLANNED = tuple(v.case for v in VERDICTS) + ("zeta/never-ran",)


def full(verdicts=VERDICTS, complete=True) -> Results:
    return Results("0.1.0", "node", "1.1.1", False, tuple(verdicts), 11.0, complete, PLANNED)


def tally_only(verdicts=VERDICTS, complete=True) -> Results:
    """As the command line builds it when no view lists every case."""
    tally = Tally()
    for verdict in verdicts:
        tally.add(verdict)
    return replace(full((), complete), tally=tally)


def test_the_tally_counts_outcomes_overall_and_by_area_and_keeps_what_is_shown():
    tally = Tally.of(VERDICTS)
    assert tally.done == 7
    assert tally.counts[Outcome.PASS] == 2 and tally.counts[Outcome.FAIL] == 1
    assert tally.areas["cycles"] == {Outcome.ERROR: 1, Outcome.TIMEOUT: 1}
    assert [v.case for v in tally.shown] == ["module/id-main", "cycles/partial", "cycles/slow",
                                            "module/id-read-only"]


def test_results_count_from_the_tally_alone():
    kept, counted = full(), tally_only()
    assert counted.verdicts == ()
    for outcome in Outcome:
        assert counted.count(outcome) == kept.count(outcome)
    assert counted.ok is kept.ok is False
    passing = [v for v in VERDICTS if v.outcome.ok]
    assert tally_only(passing).ok and full(passing).ok


def test_where_an_interrupted_run_stopped_from_the_tally_alone():
    kept, counted = full(VERDICTS[:3], False), tally_only(VERDICTS[:3], False)
    assert counted.stopped_at == kept.stopped_at == "cycles/slow"
    assert counted.where_stopped() == kept.where_stopped() == \
        "stopped after 3 of 8 cases; the next was cycles/slow"
    assert full(VERDICTS, False).stopped_at == "zeta/never-ran"


def test_the_summary_reads_the_same_from_the_tally_alone():
    for complete in (True, False):
        kept, counted = io.StringIO(), io.StringIO()
        summary(full(complete=complete), kept)
        summary(tally_only(complete=complete), counted)
        assert counted.getvalue() == kept.getvalue()
        assert "FAIL module/id-main [module.id]" in kept.getvalue()


def test_the_end_line_of_a_results_file_counts_from_the_tally(tmp_path):
    path = tmp_path / "r.json"
    writer = Writer(path)
    writer.start(full(()))
    for verdict in VERDICTS:
        writer.verdict(verdict)
    writer.finish(tally_only())
    back = read(path)
    assert back.verdicts == VERDICTS and back.complete
    assert '"summary": {"pass": 2, "warn": 1, "advisory": 0, "fail": 1, "blocked": 0, "error": 1, "timeout": 1, "skip": 1}' \
        in path.read_text().splitlines()[-1]
