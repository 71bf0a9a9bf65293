"""`badge` and `summary` end to end: real runs of the reference loader published as an SVG badge
and as Markdown for a CI job summary."""

import sys
import xml.etree.ElementTree as ET

from conformance.badge import GREEN, GREY, RED, YELLOW
from conformance.cli import main
from conformance.exitcodes import ExitCode
from tests.test_cli import BROKEN, GOOD
from tests.test_diff import run_suite

SVG = "{http://www.w3.org/2000/svg}"

#: A SHOULD clause of Modules/1.1.1 breached: a warning, no failure.
WARNS = """\
title: A SHOULD breached, to see a warning
clauses: [module.id.read-only]
modules:
  program: |
    var t = require('conformanceHarness').start(require);
    t.same(1, 2, 'one is two');
    t.done();
"""


def badge(tmp_path, capsys, results):
    """The badge of a results file: (left text, right text, colour of the right box)."""
    out = tmp_path / "badge.svg"
    capsys.readouterr()
    assert main(["badge", str(results), "-o", str(out)]) == ExitCode.OK, capsys.readouterr().err
    root = ET.fromstring(out.read_text(encoding="utf-8"))  # well-formed XML, or this raises
    texts = [t.text for t in root.iter(f"{SVG}text") if t.get("aria-hidden") is None]
    colour = next(r.get("fill") for r in root.iter(f"{SVG}rect") if r.get("x"))  # the right box
    assert root.find(f"{SVG}title").text == f"{texts[0]}: {texts[1]}"
    return texts[0], texts[1], colour


def test_badge_colours_follow_the_run(tmp_path, capsys):
    green = run_suite(tmp_path, "green", {"area/good": GOOD, "area/open": GOOD + "sandbox: true\n"})
    assert badge(tmp_path, capsys, green) == ("Modules/1.1.1", "reference: 1/1 passed", GREEN)
    yellow = run_suite(tmp_path, "yellow", {"area/good": GOOD, "area/warns": WARNS})
    assert badge(tmp_path, capsys, yellow) == ("Modules/1.1.1", "reference: 2/2 passed", YELLOW)
    red = run_suite(tmp_path, "red", {"area/good": GOOD, "area/broken": BROKEN,
                                      "area/warns": WARNS})
    assert badge(tmp_path, capsys, red) == ("Modules/1.1.1", "reference: 2/3 passed", RED)
    nothing = run_suite(tmp_path, "nothing", {"area/open": GOOD + "sandbox: false\n"},
                        "--loader", "reference-sandbox")
    assert badge(tmp_path, capsys, nothing) == ("Modules/1.1.1", "reference-sandbox: 0/0 passed",
                                                GREY)
    older = run_suite(tmp_path, "older", {"area/good": GOOD}, "--spec", "1.0")
    assert badge(tmp_path, capsys, older)[0] == "Modules/1.0"
    # A run killed before its end line: its badge says so and certifies nothing.
    killed = tmp_path / "killed.json"
    killed.write_text("".join(red.read_text().splitlines(keepends=True)[:-2]))
    assert badge(tmp_path, capsys, killed) == ("Modules/1.1.1",
                                               "reference: 1/2 passed, stopped early", GREY)


def test_badge_escapes_the_loader_name(tmp_path, capsys, repo):
    name = '<script>alert("x")</script> & co'
    command = f"{sys.executable} {repo / 'runner.py'} exec {{root}} {{main}}"
    results = run_suite(tmp_path, "named", {"area/good": GOOD}, "--loader-cmd", command,
                        "--loader-name", name)
    left, right, colour = badge(tmp_path, capsys, results)
    assert (right, colour) == (f"{name}: 1/1 passed", GREEN)
    text = (tmp_path / "badge.svg").read_text(encoding="utf-8")
    assert "<script" not in text and "&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; co" in text


def test_badge_refuses_bad_input_in_one_line(tmp_path, capsys):
    results = run_suite(tmp_path, "a", {"area/good": GOOD})
    before = results.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text("not json\n")
    for args, named in (([bad, "-o", tmp_path / "b.svg"], str(bad)),
                        ([results, "-o", tmp_path / "no" / "b.svg"], "no directory"),
                        ([results, "-o", results], "is the input")):
        capsys.readouterr()
        assert main(["badge", *map(str, args)]) == ExitCode.USAGE_ERROR
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and named in err and err.startswith("runner.py badge:")
    assert results.read_bytes() == before  # the results file was not overwritten
    assert not (tmp_path / "b.svg").exists()


def test_summary_lists_each_run_and_its_failures(tmp_path, capsys):
    passed = run_suite(tmp_path, "passed", {"area/good": GOOD})
    failed = run_suite(tmp_path, "failed", {
        "area/good": GOOD, "area/warns": WARNS,
        "area/broken": BROKEN.replace("one is two", "one | <b>two</b>")})
    capsys.readouterr()
    assert main(["summary", str(passed), str(failed)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "**reference** on Modules/1.1.1: passed, 1/1 applicable cases passed (1 pass)" in out
    assert ("**reference** on Modules/1.1.1: **FAILED**, 2/3 applicable cases passed "
            "(1 pass, 1 warn, 1 fail)") in out
    assert ("| `area/broken` | `require.returns-exports` | fail | assertion 1 failed: one \\| "
            "&lt;b&gt;two&lt;/b&gt;: expected number 2, got number 1 |") in out
    assert "| `area/warns` | `module.id.read-only` | warn |" in out
    assert "area/good" not in out and "<b>" not in out

    summary = tmp_path / "summary.md"
    assert main(["summary", str(failed), "--limit", "1", "-o", str(summary)]) == ExitCode.OK
    written = summary.read_text(encoding="utf-8")
    assert written.count("| `area/") == 1 and "... and 1 more" in written
    assert main(["summary", str(tmp_path / "none.json")]) == ExitCode.USAGE_ERROR
    assert "none.json" in capsys.readouterr().err
