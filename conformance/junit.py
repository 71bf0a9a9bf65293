"""JUnit XML from a results document, for the test reporters of CI systems."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.outcomes import ERRORS, FAILURES, NOTED, Outcome, Verdict
from conformance.results import Results, write_atomically

SUITE = "commonjs-conformance"
#: What XML 1.0 cannot carry at all, even as a character reference (control characters other
#: than tab, newline and carriage return; lone surrogates; U+FFFE and U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """Text XML can hold: each character it cannot is shown as an escape such as \\x1b."""
    return _NOT_XML.sub(lambda m: repr(m.group())[1:-1], text)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    if text:
        element.text = clean(text)
    return element


def _details(verdict: Verdict) -> str:
    return "\n".join(verdict.details) if verdict.details else verdict.message


def _testcase(suite: ET.Element, verdict: Verdict) -> None:
    case = _element(suite, "testcase", classname=verdict.case.split("/", 1)[0],
                    name=verdict.case, time=_seconds(verdict.seconds))
    if verdict.clauses:
        properties = _element(case, "properties")
        for clause in verdict.clauses:
            _element(properties, "property", name="clause", value=clause)
    outcome = verdict.outcome
    if outcome in FAILURES:
        _element(case, "failure", _details(verdict), message=verdict.message,
                 type=outcome.value)
    elif outcome in ERRORS:
        _element(case, "error", _details(verdict), message=verdict.message, type=outcome.value)
    elif outcome is Outcome.SKIP:
        _element(case, "skipped", message=verdict.message)
    elif outcome in NOTED:
        _element(case, "system-out", "\n".join((f"{'warning' if outcome is Outcome.WARN else 'advisory'}: {verdict.message}",
                                                *verdict.details)))


def render(results: Results) -> str:
    """The run as a JUnit XML document: one testsuite, one testcase per verdict."""
    counts = {
        "tests": str(len(results.verdicts)),
        "failures": str(sum(results.count(o) for o in FAILURES)),
        "errors": str(sum(results.count(o) for o in ERRORS)),
        "skipped": str(results.count(Outcome.SKIP)),
        "time": _seconds(results.seconds),
    }
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = _element(root, "testsuite",
                     name=f"{SUITE} {results.loader} Modules/{results.spec}", **counts)
    properties = _element(suite, "properties")
    for name, value in (("suite", results.suite), ("loader", results.loader),
                        ("spec", results.spec), ("sandbox", str(results.sandbox).lower()),
                        ("complete", str(results.complete).lower())):
        _element(properties, "property", name=name, value=value)
    for verdict in results.verdicts:
        _testcase(suite, verdict)
    if not results.complete:
        _element(suite, "system-err", "the run was interrupted before every selected case ran")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write(results: Results, path: Path) -> None:
    """Write the JUnit XML atomically (a reader never sees half a file); OutputError when it
    cannot be written."""
    write_atomically(Path(path), render(results), "JUnit XML")


class JUnitReporter:
    """JUnit XML as a reporter: written whole at the finish, from every verdict of the run."""

    lists_cases = True

    def __init__(self, path: Path):
        self.path = Path(path)

    def start(self, plan: Results) -> None:
        pass

    def verdict(self, verdict: Verdict) -> None:
        pass

    def finish(self, results: Results) -> None:
        write(results, self.path)
