"""REPORT.md rendering: clause verdicts and the kill matrix come from results alone."""

import json
import re
import subprocess
import sys

from conformance.clauses import catalogue
from conformance.outcomes import Kind, Outcome, Verdict
from conformance.report import clause_status, render
from conformance.results import Results, write


def verdict(case, clauses, outcome, message="m", blame=None):
    """A verdict blaming its clauses, as the judge blames an unsectioned case's, unless it
    passed or was skipped."""
    if blame is None:
        blame = () if outcome in (Outcome.PASS, Outcome.SKIP) else clauses
    kind = next(k for k in Kind if outcome in k.outcomes)  # the first kind that fits
    return Verdict(case, tuple(clauses), outcome, message, 0.0, (), kind, tuple(blame))


def one_passing_run(tmp_path):
    """A results file of one loader passing one case."""
    source = tmp_path / "r.json"
    write(Results("9.9", "someloader", "1.1.1", False,
                  (verdict("require/y", ["require.function"], Outcome.PASS),), 1.0), source)
    return source


def test_clause_status_cells():
    c = catalogue()["require.cycles"]
    assert clause_status(c, [verdict("a", ["require.cycles"], Outcome.PASS)] * 2, "1.1.1") == "pass 2"
    mixed = [verdict("a", ["require.cycles"], Outcome.PASS),
             verdict("b", ["require.cycles"], Outcome.FAIL)]
    assert clause_status(c, mixed, "1.1.1") == "**FAIL** 1/2"
    assert clause_status(c, [verdict("a", ["require.cycles"], Outcome.SKIP)], "1.1.1") == "n/a"
    assert clause_status(c, [], "1.1.1") == "no case"
    ro = catalogue()["module.id.read-only"]
    assert clause_status(ro, [verdict("a", [ro.id], Outcome.WARN)], "1.1.1") == "warning 1/1"
    assert clause_status(ro, [], "1.0") == "—"
    # A case blocked on another clause counts as blocked, not as a failure of the clause it
    # tests; the clause it relied on is not failed by it either.
    blocked = [verdict("a", ["require.cycles"], Outcome.BLOCKED, blame=["modules.singleton"])]
    assert clause_status(c, blocked, "1.1.1") == "blocked 1/1"
    reading = catalogue()["reading.inner-dot-terms"]
    advisory = [verdict("a", [reading.id], Outcome.ADVISORY)]
    assert clause_status(reading, advisory, "1.1.1") == "advisory 1/1"


def test_render_has_summary_matrix_failures_and_kill_matrix():
    loader = Results("9.9", "someloader", "1.1.1", False, (
        verdict("cycles/x", ["require.cycles"], Outcome.FAIL, "assertion 1 failed: partial | ok"),
        verdict("require/y", ["require.function"], Outcome.PASS)), 1.0)
    mutant = Results("9.9", "mutant:no-cache", "1.1.1", False, (
        verdict("require/singleton", ["modules.singleton"], Outcome.FAIL),
        verdict("cycles/x", ["require.cycles"], Outcome.ERROR)), 1.0)
    missed = Results("9.9", "mutant:cache-after-run", "1.1.1", False, (
        verdict("cycles/x", ["require.cycles"], Outcome.PASS),), 1.0)
    text = render([loader, mutant, missed], "python runner.py report x.json")
    assert "commonjs-conformance 9.9" in text and "`python runner.py report x.json`" in text
    assert "| someloader | 1.1.1 | no | 2 | 1 | 0 | 0 | 1 | 0 | 0 | 0 | 0 |" in text
    assert "| `require.cycles` | Require 1.3 | MUST / MUST / MUST | **FAIL** 1/1 |" in text
    assert "assertion 1 failed: partial \\| ok" in text
    assert "| `no-cache` | `modules.singleton` |" in text
    assert "`require/singleton` | 0 | 1 | **50%** |" in text  # cycles/x blamed another clause
    assert "**MISSED**" in text and "1 of 2 are caught" in text
    assert "`context.exports.only-means`" in text  # the clauses no case judges are listed


def test_report_command_renders_results_files(repo, tmp_path):
    source = one_passing_run(tmp_path)
    out = tmp_path / "REPORT.md"
    proc = subprocess.run([sys.executable, "runner.py", "report", str(source), "-o", str(out)],
                          cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "| `require.function` |" in out.read_text()
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    proc = subprocess.run([sys.executable, "runner.py", "report", str(bad)], cwd=repo,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4 and "not a results file" in proc.stderr


def test_report_command_adds_the_benchmark_figures(repo, tmp_path):
    source = one_passing_run(tmp_path)
    figures = tmp_path / "figures.json"
    figures.write_text(json.dumps({
        "command": "python bench/benchmark.py --json f.json", "date": "2026-11-21 07:00 UTC",
        "machine": "2 cores", "versions": "python 3.11", "tree": "commit abc",
        "targets": [{"target": "reference at most 4x the floor", "measured": "3.10x",
                     "met": True, "note": "480 us | 160 us"},
                    {"target": "2,500 cases/s", "measured": "1,600/s", "met": False}]}))
    out = tmp_path / "REPORT.md"
    proc = subprocess.run([sys.executable, "runner.py", "report", str(source), "--benchmark",
                           str(figures), "-o", str(out)], cwd=repo, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "## Speed" in text and "`python bench/benchmark.py --json f.json`" in text
    assert "| reference at most 4x the floor | 3.10x | yes | 480 us \\| 160 us |" in text
    assert "| 2,500 cases/s | 1,600/s | **no** |  |" in text
    figures.write_text(json.dumps({"targets": [{"target": "x"}]}))
    proc = subprocess.run([sys.executable, "runner.py", "report", str(source), "--benchmark",
                           str(figures)], cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4 and "not a benchmark figures file" in proc.stderr


def test_ids_names_and_messages_cannot_break_the_tables_or_pass_html(hostile):
    """A case file named a/pipe|tick`<img src=x onerror=alert(1)>.yaml, a loader named with
    markup and a message with HTML: every table row keeps its cells, nothing renders as HTML."""
    case = "a/pipe|tick`<img src=x onerror=alert(1)>"
    loader = Results("9.9", "evil|<b>loader</b>", "1.1.1", False, (
        verdict(case, ["require.cycles"], Outcome.FAIL, "got <script>x</script> | *bold*\nnext"),),
        1.0)
    text = render([loader], "python runner.py report x.json")
    # The id is one code span, whose fence no backtick in it ends: there <img ...> is text.
    span = "``a/pipe\\|tick`<img src=x onerror=alert(1)>``"
    assert span in text
    outside = text.replace(span, "")
    assert "<img" not in outside and "<script" not in outside and "<b>" not in outside
    for line in text.splitlines():
        if line.startswith("| ") and case.split("|")[0] in line:
            cells = [c for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            assert len(cells) == 5, line  # case, blames, outcome, what happened, why
    assert "&lt;script&gt;" in text
    hostile("Reports", "a case id with '|', a backtick and an <img onerror> tag; a loader name "
            "and a message with HTML and Markdown", "REPORT.md keeps every table cell; ids are "
            "code spans with a fence no backtick in them ends, text is escaped, no raw HTML")


def profile_runs():
    """A Modules/1.1.1 run, and two node profile runs: one failing a stated clause, warning on
    a deprecated one and advisory on a reading; one passing all."""
    spec = Results("9.9", "someloader", "1.1.1", False, (
        verdict("require/y", ["require.function"], Outcome.PASS),), 1.0)
    engine = Results("9.9", "engine", "node", False, (
        verdict("node/lookup/a", ["node.lookup.format"], Outcome.FAIL,
                "assertion 1 failed: a .txt file ran as JavaScript"),
        verdict("node/module-object/p", ["node.module.parent"], Outcome.WARN, "warn: parent"),
        verdict("node/module-object/l", ["reading.node.loaded-while-running"],
                Outcome.ADVISORY, "advisory: loaded"),
        verdict("node/exports/s", ["node.exports.shortcut"], Outcome.PASS)), 1.0)
    node = Results("9.9", "node", "node", False, (
        verdict("node/lookup/a", ["node.lookup.format"], Outcome.PASS),
        verdict("node/exports/s", ["node.exports.shortcut"], Outcome.PASS)), 1.0)
    return spec, engine, node


def test_profile_runs_get_a_section_of_their_own_never_the_spec_tables():
    spec, engine, node = profile_runs()
    reasons = {("engine", "node"): {"node/lookup/a": "The engine reads .txt files as text."}}
    text = render([spec, engine, node], "x", reasons)
    head, _, section = text.partition("\n## Node profile\n")
    assert section, "no Node profile section"
    # The spec's summary and matrix name the spec run alone; no node clause is a row there.
    assert "| someloader | 1.1.1 |" in head and "engine" not in head
    assert "node.lookup.format" not in head and "| `require.function` |" in head
    assert "CommonJS Modules 1.1.1; the node profile (its own section)" in head
    # The profile's loaders side by side, in the order given.
    assert "| engine | node | no | 4 | 1 | 1 | 1 | 1 | 0 | 0 | 0 | 0 |" in section
    assert "| node | node | no | 2 | 2 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |" in section
    assert "| clause | where the docs state it | level | engine | node |" in section
    row = next(line for line in section.splitlines() if line.startswith("| `node.lookup.format`"))
    assert "[File modules; All together: LOAD\\_AS\\_FILE 1](https://github.com/nodejs/node/" in row
    assert row.endswith("| STATES | **FAIL** 1/1 | pass 1 |")
    parent = next(line for line in section.splitlines()
                  if line.startswith("| `node.module.parent`"))
    assert parent.endswith("| DEPRECATED | warning 1/1 | no case |")
    reading = next(line for line in section.splitlines()
                   if line.startswith("| `reading.node.loaded-while-running`"))
    assert "STATES (reading) | advisory 1/1 | no case |" in reading
    # Each loader's failures with its profile expectation file's reason; no feature line.
    assert "### engine: failures and warnings" in section
    assert "| why (what the docs state) |" in section
    assert "The engine reads .txt files as text. |" in section
    assert "Advisories on engine" in section and "Optional features" not in section
    assert "### node: failures and warnings" in section


def test_a_report_of_profile_runs_alone(repo, tmp_path):
    _, engine, node = profile_runs()
    paths = []
    for run in (engine, node):
        paths.append(tmp_path / f"{run.loader}.json")
        write(run, paths[-1])
    out = tmp_path / "REPORT.md"
    proc = subprocess.run([sys.executable, "runner.py", "report", *map(str, paths), "-o",
                           str(out)], cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "## Summary" not in text and "## Clause matrix" not in text
    assert "## Node profile" in text and "### Node profile: clause matrix" in text
    assert "| `node.lookup.format` |" in text


def test_profile_mutants_get_the_profiles_kill_matrix():
    from conformance.mutants import BY_PROFILE

    mutant = BY_PROFILE["node"][0][0]
    run = Results("9.9", f"mutant:{mutant.name}", "node", False, (
        verdict("node/x/y", [mutant.clause], Outcome.FAIL),), 1.0)
    spec_mutant = Results("9.9", "mutant:no-cache", "1.1.1", False, (
        verdict("require/singleton", ["modules.singleton"], Outcome.FAIL),), 1.0)
    text = render([run, spec_mutant])
    head, _, section = text.partition("\n## Node profile\n")
    assert "## Kill matrix" in head and mutant.name not in head and "1 of 1 are caught" in head
    assert "### Node profile: Kill matrix" in section
    assert f"| `{mutant.name}` | `{mutant.clause}` |" in section and "no-cache" not in section
