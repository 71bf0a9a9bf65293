"""`badge RESULTS -o FILE.svg`: a shields-style flat SVG badge of one run."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape, quoteattr

from conformance.exitcodes import ExitCode
from conformance.outcomes import Outcome
from conformance.results import Results
from conformance.parser import Parser
from conformance.publish import check_destination, emit, guarded, read_runs
from conformance.summary import applicable
from conformance.text import one_line

#: The badge's colours (shields' brightgreen, yellow, red, lightgrey, and its label grey).
GREEN, YELLOW, RED, GREY, LABEL = "#4c1", "#dfb317", "#e05d44", "#9f9f9f", "#555"
#: Characters of a loader's name shown at most; a longer one is cut with an ellipsis.
NAME_LIMIT = 40

#: Approximate advance widths, in pixels, of Verdana at 11px (the font shields badges use), by
#: class of character; textLength then makes any font fit the box drawn for it.
_NARROW, _SEMI, _WIDE = set("ijl.,:;!|'`I "), set("frt()[]/-\"{}*"), set("mwMW@%")


def _width(text: str) -> float:
    """The text's width in pixels, near enough to size the box it sits in."""
    return sum(3.5 if c in _NARROW else 4.6 if c in _SEMI else 10.5 if c in _WIDE
               else 7.8 if c.isupper() else 7.0 if c.isdigit() else 6.8 for c in text)


def label(run: Results) -> tuple[str, str, str]:
    """(left text, right text, colour) of a run's badge: green when every applicable case
    passed with no warning, yellow when only warnings hold against it (SHOULD clauses;
    advisories, the project's readings, do not colour it), red on any failure, grey when
    nothing was tested or the run stopped before its end."""
    passed, total = applicable(run)
    name = one_line(run.loader)
    if len(name) > NAME_LIMIT:
        name = name[:NAME_LIMIT - 1] + "…"
    right = f"{name}: {passed}/{total} passed"
    if not run.complete:
        colour, right = GREY, right + ", stopped early"
    elif not total:
        colour = GREY
    elif not run.ok:
        colour = RED
    elif run.count(Outcome.WARN):
        colour = YELLOW
    else:
        colour = GREEN
    return f"Modules/{one_line(run.spec)}", right, colour


def render(run: Results) -> str:
    """The SVG of a run's badge (shields' flat style), its text escaped for XML."""
    left, right, colour = label(run)
    lw, rw = round(_width(left) + 10), round(_width(right) + 10)
    width = lw + rw
    title = escape(f"{left}: {right}")

    def text(content: str, x: float, box: int) -> str:
        length = (box - 10) * 10
        body = escape(content)
        return (f'<text aria-hidden="true" x="{x * 10:.0f}" y="150" fill="#010101" '
                f'fill-opacity=".3" transform="scale(.1)" textLength="{length}">{body}</text>'
                f'<text x="{x * 10:.0f}" y="140" transform="scale(.1)" fill="#fff" '
                f'textLength="{length}">{body}</text>')

    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
            f'aria-label={quoteattr(f"{left}: {right}")}><title>{title}</title>'
            '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
            'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
            f'<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
            f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="{LABEL}"/>'
            f'<rect x="{lw}" width="{rw}" height="20" fill="{colour}"/>'
            f'<rect width="{width}" height="20" fill="url(#s)"/></g>'
            '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,'
            'sans-serif" text-rendering="geometricPrecision" font-size="110">'
            + text(left, lw / 2, lw) + text(right, lw + rw / 2, rw) + "</g></svg>\n")


def badge_command(argv: Sequence[str]) -> int:
    """`badge RESULTS -o FILE.svg`: write the badge of one run."""
    p = Parser(prog="runner.py badge",
               description="Write a badge (SVG, shields' flat style) of one run: "
                           "'Modules/<spec>' and '<loader>: N/M passed' (M: the applicable "
                           "cases), green when every one passed, yellow when only SHOULD "
                           "clauses warn, red on a failure, grey when nothing was tested or "
                           "the run stopped early.")
    p.add_argument("results", type=Path, metavar="RESULTS")
    p.add_argument("-o", "--output", type=Path, metavar="FILE.svg", help="default: stdout")
    args = p.parse_args(argv)

    def body() -> int:
        check_destination(args.output, [args.results])
        run, = read_runs([args.results])
        emit(args.output, render(run), "the badge")
        return ExitCode.OK

    return guarded(p.prog, body)
