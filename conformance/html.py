"""`html RESULTS... -o FILE.html`: one self-contained HTML report of runs, with case sources."""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path
from typing import Sequence

from conformance import SPEC_VERSIONS
from conformance.case import Case
from conformance.caseload import SUFFIXES, CaseError, default_root, load
from conformance.clauses import SPEC_PAGES, catalogue, is_profile, spec_name
from conformance.exitcodes import ExitCode
from conformance.outcomes import CLEAN, Outcome, Verdict
from conformance.report import clause_status
from conformance.results import Results
from conformance.parser import Parser
from conformance.publish import Refused, check_destination, emit, guarded, read_runs
from conformance.summary import OUTCOME_WORDS, applicable
from conformance.text import one_line

#: A cell of the clause matrix (see report.clause_status) -> its CSS class, by first word.
CELL_CLASSES = {"FAIL": "fail", "warning": "warn", "advisory": "advisory",
                "blocked": "blocked", "pass": "pass", "n/a": "na", "no": "na", "—": "absent"}
#: Control characters other than tab and line feed, which HTML may not hold.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 75em; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; }
code, pre { font: 12px/1.4 ui-monospace, monospace; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: .5em; overflow-x: auto; }
details { border: 1px solid #ddd; margin: .4em 0; padding: .3em .6em; }
summary { cursor: pointer; }
.pass { background: #dfd; } .fail { background: #fcc; } .warn { background: #ffd; }
.advisory { background: #eef; } .blocked { background: #fdb; } .error, .timeout { background: #fcc; }
.na, .absent, .skip { color: #888; }
.note { color: #666; }
"""


def _e(text: object) -> str:
    """Text from a run or a case file, escaped for HTML: no markup, no control characters,
    nothing a UTF-8 writer cannot encode."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(_CONTROL.sub(lambda m: repr(m.group())[1:-1], text), quote=True)


def _spec_link(version: str) -> str:
    """The spec version, linked to its text, or the profile (the spec's pages and the
    profile's clauses are the only links that leave the page)."""
    if version not in SPEC_PAGES:
        return _e(spec_name(version))
    return f'<a href="{_e(SPEC_PAGES[version])}">Modules/{_e(version)}</a>'


def _run_name(run: Results, names: dict[int, str] | None = None) -> str:
    """The run's loader and spec version; where two runs share both, also the name it was
    given (its file's name) to tell them apart."""
    extra = (names or {}).get(id(run))
    return _e(one_line(f"{run.loader} {run.spec}" + (f" ({extra})" if extra else "")))


def _names(runs: Sequence[Results], paths: Sequence[Path]) -> dict[int, str]:
    """id(run) -> its file's name, for the runs that share their loader and spec version with
    another run."""
    shared = Counter((r.loader, r.spec) for r in runs)
    return {id(r): p.name for r, p in zip(runs, paths) if shared[(r.loader, r.spec)] > 1}


def find_case(root: Path, case_id: str) -> Case | str:
    """The case of this id under root, or one line saying why it cannot be shown. An id that
    would lead out of root (a results file is data, not a path to follow) is never read."""
    parts = case_id.split("/")
    if not case_id or any(part in ("", ".", "..") or "\\" in part for part in parts):
        return "not a case id that names a file under the case directory"
    for suffix in SUFFIXES:
        path = root / (case_id + suffix)
        if path.is_file():
            try:
                return load(path, root)
            except CaseError as exc:
                return one_line(str(exc))
            except ValueError:  # it leads out of root through a linked directory
                return "its file lies outside the case directory"
    return f"no case file for it under {root}"


def _summary(runs: Sequence[Results], names: dict[int, str]) -> list[str]:
    head = "".join(f"<th>{OUTCOME_WORDS[o]}</th>" for o in Outcome)
    lines = ["<table><tr><th>loader</th><th>spec</th><th>sandbox</th><th>passed</th>"
             f"{head}</tr>"]
    for run in runs:
        passed, total = applicable(run)
        stopped = f" ({_e(run.where_stopped())})" if not run.complete else ""
        cells = "".join(f'<td class="num">{run.count(o)}</td>' for o in Outcome)
        lines.append(f"<tr><td>{_run_name(run, names)}{stopped}</td>"
                     f"<td>{_spec_link(run.spec)}</td><td>{'yes' if run.sandbox else 'no'}</td>"
                     f'<td class="num">{passed}/{total}</td>{cells}</tr>')
    return lines + ["</table>"]


def _ref(clause, where: str = "1.1.1") -> str:
    """The clause's place in Modules/1.1.1 (or in the profile's source), linked to that
    section."""
    ref = clause.ref.get(where)
    if ref is None:
        return "—"
    return f'<a href="{_e(clause.link(where))}">{_e(ref)}</a>'


def _matrix(runs: Sequence[Results], names: dict[int, str],
            profile: str | None = None) -> list[str]:
    """Clauses x runs, each cell report.clause_status's verdict: the spec's clauses, or with
    `profile` that profile's (its runs never share a matrix with the spec's)."""
    heads = "".join(f"<th>{_run_name(r, names)}</th>" for r in runs)
    versions = (profile,) if profile else SPEC_VERSIONS
    where = profile or "1.1.1"
    lines = [f"<table><tr><th>clause</th><th>{_e(spec_name(where))}</th>"
             f"<th>level ({' / '.join(versions)})</th>{heads}</tr>"]
    for clause in catalogue(where).values():
        if not clause.loader_testable:
            continue
        levels = " / ".join(clause.level_in(v) or "—" for v in versions)
        cells = []
        for run in runs:
            status = clause_status(clause, run.verdicts, run.spec).replace("**", "")
            css = CELL_CLASSES.get(status.split(" ", 1)[0], "")
            cells.append(f'<td class="{css}">{_e(status)}</td>')
        lines.append(f'<tr><td><code title="{_e(clause.text)}">{_e(clause.id)}</code></td>'
                     f"<td>{_ref(clause, where)}</td><td>{levels}</td>"
                     + "".join(cells) + "</tr>")
    return lines + ["</table>"]


def _sources(found: Case | str) -> list[str]:
    if isinstance(found, str):
        return [f'<h4>The case</h4><p class="note">Case source not shown: {_e(found)}</p>']
    lines = [f"<h4>The case: {_e(found.title)}</h4>"]
    sources = found.files or found.modules  # a profile case's files, else its modules
    order = [found.main] + [m for m in sources if m != found.main]
    for name in order:
        main = " (main)" if name == found.main else ""
        lines.append(f"<h5><code>{_e(name)}</code>{main}</h5>"
                     f"<pre><code>{_e(sources[name])}</code></pre>")
    return lines


def _failure(v: Verdict, found: Case | str) -> list[str]:
    """One verdict that is not a pass: a collapsed block with its verdict, message, details
    and the case's module sources."""
    kind = f" ({_e(v.kind.value)})" if v.kind.value else ""
    blame = f" blames {_e(', '.join(v.blame))}" if v.blame else ""
    lines = [f'<details><summary><code>{_e(v.case)}</code> <span class="{v.outcome.value}">'
             f"{v.outcome.value}</span>{kind}{blame}: {_e(v.message)}</summary>",
             f"<p>Clauses cited: {_e(', '.join(v.clauses)) or '—'}</p>"]
    if v.details:
        lines += ["<h4>What the run showed</h4>",
                  "<pre>" + "\n".join(_e(d) for d in v.details) + "</pre>"]
    return lines + _sources(found) + ["</details>"]


def render(runs: Sequence[Results], root: Path, paths: Sequence[Path] = ()) -> str:
    """The whole page: a summary, the clause matrix, and every verdict of each run that is not
    a pass or not applicable, with the sources of its case read from root; `paths`: the runs'
    files, to tell apart two runs of one loader and spec version."""
    names = _names(runs, paths)
    cases: dict[str, Case | str] = {}
    specs = ", ".join(_spec_link(v) for v in sorted({r.spec for r in runs}))
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>CommonJS conformance report</title>", f"<style>{STYLE}</style></head><body>",
           "<h1>CommonJS conformance report</h1>",
           f"<p>CommonJS {specs}; suite {_e(', '.join(sorted({r.suite for r in runs})))}. "
           "Rendered from results files by <code>commonjs-conformance html</code>.</p>",
           "<h2>Summary</h2>"] + _summary(runs, names)
    out += ["<h2>Clause matrix</h2>",
            "<p>Every clause a running program can check. <b>pass</b>: every case citing it "
            "that ran passed; <b>FAIL</b>: cases whose verdict blames a MUST; <b>warning</b>: "
            "the same for a SHOULD; <b>advisory</b>: the project's reading was not met (never a "
            "failure); <b>blocked</b>: a case could not reach its test; <b>n/a</b>: no case "
            "applied; —: not in that spec version. Counts are of cases that ran.</p>"]
    spec_runs = [r for r in runs if not is_profile(r.spec)]
    if spec_runs:
        out += _matrix(spec_runs, names)
    for profile in sorted({r.spec for r in runs if is_profile(r.spec)}):
        out += [f"<h3>{_e(spec_name(profile))}</h3>",
                "<p>Its own clauses, from Node's documentation; never mixed with the spec's.</p>"]
        out += _matrix([r for r in runs if r.spec == profile], names, profile)
    for run in runs:
        shown = [v for v in run.verdicts if v.outcome not in CLEAN]
        out.append(f"<h2>{_run_name(run, names)}: failures, warnings and advisories</h2>")
        if not shown:
            out.append("<p>Every applicable case passed.</p>")
        for v in shown:
            if v.case not in cases:
                cases[v.case] = find_case(root, v.case)
            out += _failure(v, cases[v.case])
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def html_command(argv: Sequence[str]) -> int:
    """`html RESULTS... -o FILE.html`: write the HTML report of runs."""
    p = Parser(prog="runner.py html",
               description="Write one self-contained HTML file (no scripts, no external "
                            "resources) from results files: a summary, the clause matrix, and "
                            "every failure, warning and advisory with its message and the "
                            "module sources of its case.")
    p.add_argument("results", type=Path, nargs="+", metavar="RESULTS")
    p.add_argument("-o", "--output", type=Path, metavar="FILE.html", help="default: stdout")
    p.add_argument("--cases", type=Path, default=None, metavar="DIR",
                   help="where the cases' files are (default: the suite's own cases)")
    args = p.parse_args(argv)

    def body() -> int:
        root = args.cases or default_root()
        if not root.is_dir():
            raise Refused(ExitCode.USAGE_ERROR, f"error: --cases {root}: no such directory")
        check_destination(args.output, args.results)
        emit(args.output, render(read_runs(args.results), root, args.results), "the HTML report")
        return ExitCode.OK

    return guarded(p.prog, body)

