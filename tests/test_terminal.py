"""The terminal view: supplied text shown escaped; known failures apart; each failure's title,
clauses and details; skip reasons; colour and the live status line on a terminal."""

import io
import re

from conformance.cli import main
from conformance.exitcodes import ExitCode
from conformance.features import Features
from conformance.outcomes import Kind, Outcome, Verdict
from conformance.results import Results
from conformance.terminal import About, Progress, TerminalReporter, summary, wants_color
from tests.test_cli import BROKEN, GOOD

HOSTILE = "x\x1b[2J\x07\u2028\ud800y"
SHOWN = "x\\x1b[2J\\x07\\u2028\\ud800y"


def test_every_supplied_string_is_shown_escaped_on_one_line():
    clause = "c\x1b[31m"  # no line break: the verdict keeps it as it is, to match `citing`
    verdict = Verdict(f"area/{HOSTILE}", (clause,), Outcome.BLOCKED, HOSTILE, 0.1,
                      (HOSTILE,), "not-started", (clause,))
    out = io.StringIO()
    progress = Progress(out, verbose=True)
    progress.header(HOSTILE, "1.1.1", 1, "0.1.0")
    progress(verdict)
    summary(Results("0.1.0", HOSTILE, "1.1.1", False, (verdict,), 1.0), out,
            {clause: [f"other/{HOSTILE}"]})
    text = out.getvalue()
    assert not any(c in text for c in "\x1b\x07\u2028\ud800"), repr(text)
    text.encode("utf-8")
    assert f"loader {SHOWN}," in text and f"\n{SHOWN}, Modules/1.1.1: " in text
    assert f"c\\x1b[31m is tested by: other/{SHOWN}" in text and f"area/{SHOWN}" in text


#: Any colour or style code (SGR); the live status line's cursor codes are not colours.
COLOUR = re.compile("\x1b\\[[0-9;]*m")


class Tty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self):
        return True


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def screen(text):
    """What a terminal shows after `text`: cursor-left (CSI n D), erase to the end of the line
    (CSI K) and colours (CSI m) applied, as a list of lines."""
    lines, column = [""], 0
    for match in re.finditer("\x1b\\[(\\d*)([DKm])|\n|[^\x1b\n]", text):
        token = match.group()
        if token == "\n":
            lines.append("")
            column = 0
        elif match.group(2) == "D":
            column -= int(match.group(1) or 1)
        elif match.group(2) == "K":
            lines[-1] = lines[-1][:column]
        elif match.group(2) is None:
            line = lines[-1].ljust(column)
            lines[-1] = line[:column] + token + line[column + 1:]
            column += 1
    return lines


def verdict(case, outcome, message="", details=(), clauses=("require.returns-exports",)):
    kinds = {Outcome.PASS: Kind.NONE, Outcome.FAIL: Kind.ASSERTION_FAILED,
             Outcome.SKIP: Kind.NOT_APPLICABLE, Outcome.WARN: Kind.SHOULD_BREACHED}
    blame = clauses if outcome in (Outcome.FAIL, Outcome.WARN) else ()
    return Verdict(case, clauses, outcome, message, 0.01, details, kinds[outcome], blame)


def run_reporter(out, verdicts, tmp_path, known=None, clock=None, planned=None):
    """Feed a TerminalReporter a plan, the verdicts and the finish, as a run does."""
    reporter = TerminalReporter(out, False, Features({}, {}), tmp_path, known=known,
                                **({"clock": clock} if clock else {}))
    ids = tuple(planned or [v.case for v in verdicts])
    reporter.start(Results("0.1.0", "fake", "1.1.1", False, (), 0.0, False, ids))
    for v in verdicts:
        reporter.verdict(v)
    reporter.finish(Results("0.1.0", "fake", "1.1.1", False, tuple(verdicts), 1.0, True, ids))
    return out.getvalue()


def test_known_failures_are_marked_x_and_listed_one_line_each_after_the_new_ones(tmp_path):
    verdicts = [verdict("area/new", Outcome.FAIL, "assertion 1 failed: new trouble",
                        ("FAIL 1 new trouble",)),
                verdict("area/old", Outcome.FAIL, "assertion 1 failed: old trouble",
                        ("FAIL 1 old trouble",)),
                verdict("area/fine", Outcome.PASS)]
    reasons = {"area/old": "module.id is a file path here"}
    text = run_reporter(io.StringIO(), verdicts, tmp_path,
                        known=lambda v: reasons.get(v.case))
    assert "area          Fx.\n" in text
    new, known_block = text.index("FAIL area/new"), text.index("known failures")
    assert new < known_block
    assert ("\nx area/old [require.returns-exports] fail: module.id is a file path here\n"
            in text)
    assert "old trouble" not in text  # no detail for a known failure, only its reason
    assert "FAIL 1 new trouble" in text


def test_without_known_every_failure_is_new(tmp_path):
    text = run_reporter(io.StringIO(), [verdict("area/old", Outcome.FAIL, "trouble")], tmp_path)
    assert "area          F\n" in text and "known failures" not in text


def test_a_failure_shows_the_title_notes_and_each_cited_clause_with_its_text(tmp_path):
    v = verdict("area/broken", Outcome.FAIL, "assertion 1 failed: one is two",
                ("FAIL 1 one is two",), ("require.returns-exports", "require.cycles"))
    out = io.StringIO()
    summary(Results("0.1.0", "fake", "1.1.1", False, (v,), 1.0), out,
            about={"area/broken": About("A title that says what the case shows",
                                        "Why the case is shaped\nas it is.")})
    text = out.getvalue()
    head = text[text.index("FAIL area/broken"):]
    assert head.index("A title that says") < head.index("notes: Why the case is shaped as it")
    assert "require.returns-exports (MUST, Require 1.2)" in text
    assert 'spec: "require" returns the exported API of the foreign module.' in text
    assert "http://wiki.commonjs.org/wiki/Modules/1.1.1#Require" in text
    assert "require.cycles (MUST, Require 1.3)" in text


def test_each_fail_line_is_shown_once_not_again_as_stdout():
    v = verdict("area/broken", Outcome.FAIL, "assertion 2 failed: b",
                ("FAIL 2 b", "FAIL 3 c", "stdout: PASS 1 a", "stdout: FAIL 2 b",
                 "stdout: FAIL 3 c", "stdout: DONE 3 0011"))
    out = io.StringIO()
    summary(Results("0.1.0", "fake", "1.1.1", False, (v,), 1.0), out)
    text = out.getvalue()
    assert text.count("FAIL 2 b") == text.count("FAIL 3 c") == 1
    assert "stdout: PASS 1 a" in text and "stdout: DONE 3 0011" in text


def test_a_run_shows_title_and_clause_text_and_each_fail_line_once(tmp_path, capsys):
    root = tmp_path / "cases"
    (root / "area").mkdir(parents=True)
    (root / "area" / "broken.yaml").write_text(BROKEN)
    (root / "area" / "good.yaml").write_text(GOOD)
    assert main(["--cases", str(root), "-j", "1"]) == ExitCode.FAILED
    text = capsys.readouterr().out
    failure = text[text.index("FAIL area/broken [require.returns-exports]"):]
    assert failure.index("An assertion that cannot hold, to see the run fail") < \
        failure.index("assertion 1 failed")
    assert 'spec: "require" returns the exported API of the foreign module.' in failure
    assert "http://wiki.commonjs.org/wiki/Modules/1.1.1#Require" in failure
    assert text.count("FAIL 1 one is two") == 1, text
    assert "\x1b" not in text  # not a terminal: no colour, no status line


def test_skips_are_grouped_by_reason_with_counts(tmp_path):
    verdicts = [verdict(f"paths/p{i}", Outcome.SKIP,
                        "not applicable: the loader has no require.paths") for i in range(3)]
    verdicts += [verdict("sandbox/s", Outcome.SKIP,
                         "not applicable: the case applies only to sandboxes"),
                 verdict("area/fine", Outcome.PASS)]
    text = run_reporter(io.StringIO(), verdicts, tmp_path)
    assert ("\n4 not applicable: 3 the loader has no require.paths, 1 the case applies only "
            "to sandboxes\n") in text


def test_on_a_terminal_a_live_status_line_counts_names_the_running_case_and_estimates(
        tmp_path, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    clock = Clock()
    out = Tty()
    reporter = TerminalReporter(out, False, Features({}, {}), tmp_path, clock=clock)
    ids = ("area/a", "area/b", "area/c", "area/d", "other/e")
    reporter.start(Results("0.1.0", "fake", "1.1.1", False, (), 0.0, False, ids))
    assert screen(out.getvalue())[-1] == "  [1/5] area/a"
    clock.now += 2.0
    reporter.verdict(verdict("area/a", Outcome.PASS))
    clock.now += 2.0
    reporter.verdict(verdict("area/b", Outcome.FAIL, "trouble"))
    # two cases in 4 s: three more take about 6 s
    assert screen(out.getvalue())[-1] == "area          .F  [3/5] area/c  ~6s left"
    for case in ids[2:]:
        reporter.verdict(verdict(case, Outcome.PASS))
    reporter.finish(Results("0.1.0", "fake", "1.1.1", False, (), 9.0, True, ids))
    shown = screen(out.getvalue())
    assert "area          .F..\n" not in out.getvalue()  # the marks are redrawn around the status
    assert "area          .F.." in shown and "other         ." in shown
    assert not any("[" in line and "/5]" in line for line in shown)  # the status is erased
    assert COLOUR.search(out.getvalue())  # colour on a terminal


def test_no_color_and_a_stream_that_is_no_terminal_get_no_colour(tmp_path, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    verdicts = [verdict("area/a", Outcome.FAIL, "trouble"), verdict("area/b", Outcome.PASS)]
    on_tty = run_reporter(Tty(), verdicts, tmp_path)
    assert not COLOUR.search(on_tty) and "FAIL area/a" in on_tty
    assert "[2/2] area/b" in on_tty  # the status line still shows: only colour is off
    monkeypatch.delenv("NO_COLOR")
    plain = run_reporter(io.StringIO(), verdicts, tmp_path)
    assert "\x1b" not in plain


def test_wants_color_follows_no_color_force_color_and_the_stream():
    assert wants_color(Tty(), {}) and not wants_color(io.StringIO(), {})
    assert not wants_color(Tty(), {"NO_COLOR": "1"})
    assert wants_color(Tty(), {"NO_COLOR": ""})  # set but empty: no-color.org says ignore it
    assert wants_color(io.StringIO(), {"FORCE_COLOR": "1"})
    assert not wants_color(io.StringIO(), {"FORCE_COLOR": "0"})
    assert not wants_color(Tty(), {"NO_COLOR": "1", "FORCE_COLOR": "1"})


def test_an_interrupted_run_takes_its_status_line_off_before_the_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    out = Tty()
    reporter = TerminalReporter(out, True, Features({}, {}), tmp_path, clock=Clock())
    ids = ("area/a", "area/b", "area/c")
    reporter.start(Results("0.1.0", "fake", "1.1.1", False, (), 0.0, False, ids))
    reporter.verdict(verdict("area/a", Outcome.PASS))
    assert screen(out.getvalue())[-1].startswith("  [2/3] area/b")
    reporter.finish(Results("0.1.0", "fake", "1.1.1", False, (verdict("area/a", Outcome.PASS),),
                            1.0, False, ids))
    shown = screen(out.getvalue())
    assert any(line.startswith("PASS") and "area/a" in line for line in shown)
    assert not any("[2/3]" in line for line in shown)
    assert "incomplete: stopped after 1 of 3 cases; the next was area/b" in shown[-2]


def test_titles_notes_reasons_and_skip_reasons_are_shown_escaped(tmp_path):
    failing = verdict("area/bad", Outcome.FAIL, "trouble")
    verdicts = [failing, verdict("area/old", Outcome.FAIL, "old"),
                verdict("area/skip", Outcome.SKIP, f"not applicable: {HOSTILE}")]
    out = io.StringIO()
    reporter = TerminalReporter(out, False, Features({}, {}), tmp_path,
                                known=lambda v: HOSTILE if v.case == "area/old" else None)
    reporter.start(Results("0.1.0", "fake", "1.1.1", False, (), 0.0, False,
                           tuple(v.case for v in verdicts)))
    for v in verdicts:
        reporter.verdict(v)
    summary(Results("0.1.0", "fake", "1.1.1", False, tuple(verdicts), 1.0), out,
            known=reporter.recorded, skipped=reporter.skipped,
            about={"area/bad": About(f"title {HOSTILE}", f"notes {HOSTILE}")})
    text = out.getvalue()
    assert not any(c in text for c in "\x1b\x07\u2028\ud800"), repr(text)
    # a title or notes may be broken into lines where they break (\u2028), never unescaped
    assert "title x\\x1b[2J\\x07" in text and "notes: notes x\\x1b[2J\\x07" in text
    assert f"fail: {SHOWN}" in text and f"1 not applicable: 1 {SHOWN}" in text
