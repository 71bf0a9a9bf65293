"""JUnit XML from a results document, for the test reporters of CI systems."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable, Collection

from conformance.clauses import spec_name
from conformance.expectations import Expectation, Expectations, Standing, now
from conformance.outcomes import ERRORS, FAILURES, NOTED, Outcome, Verdict
from conformance.results import Results, write_atomically
from conformance.text import display_path

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


def _testcase(suite: ET.Element, verdict: Verdict,
              known: Expectations | None = None) -> ET.Element:
    """One verdict as a testcase; with `known`, as the gate stands on it (see render)."""
    case = _element(suite, "testcase", classname=verdict.case.split("/", 1)[0],
                    name=verdict.case, time=_seconds(verdict.seconds))
    if verdict.clauses:
        properties = _element(case, "properties")
        for clause in verdict.clauses:
            _element(properties, "property", name="clause", value=clause)
    outcome = verdict.outcome
    standing, entry = known.standing(verdict) if known is not None else (None, None)
    if standing is Standing.EXPECTED:
        _element(case, "skipped", _details(verdict),
                 message=f"expected failure: {known.known(verdict)}")
    elif standing is Standing.CHANGED:
        tag = "error" if outcome in ERRORS else "failure"
        _element(case, tag, _details(verdict), type="changed",
                 message=f"changed failure: recorded {entry.describe()}; now {now(verdict)}")
    elif standing is Standing.FIXED:
        shown = "not applicable" if outcome is Outcome.SKIP else outcome.value
        _element(case, "failure", verdict.message, type="unexpected-pass",
                 message=f"unexpected pass: recorded {entry.describe()}; now {shown} "
                         "(update the expectations)")
    elif standing is Standing.NEW and outcome in NOTED:  # a new warning fails the gate
        _element(case, "failure", _details(verdict), type=outcome.value,
                 message=f"new {outcome.value}: {verdict.message}")
    elif outcome in FAILURES:
        _element(case, "failure", _details(verdict), message=verdict.message,
                 type=outcome.value)
    elif outcome in ERRORS:
        _element(case, "error", _details(verdict), message=verdict.message, type=outcome.value)
    elif outcome is Outcome.SKIP:
        _element(case, "skipped", message=verdict.message)
    elif outcome in NOTED:
        _element(case, "system-out", "\n".join((f"{'warning' if outcome is Outcome.WARN else 'advisory'}: {verdict.message}",
                                                *verdict.details)))
    return case


def _unknown(suite: ET.Element, entry: Expectation, known: Expectations) -> ET.Element:
    """A testcase for an entry that names no case of the suite: the gate fails on it."""
    case = _element(suite, "testcase", classname="expectations", name=entry.case,
                    time=_seconds(0.0))
    where = display_path(known.path) + (f":{entry.line}" if entry.line else "")
    _element(case, "failure", f"recorded as {entry.describe()}", type="unknown-case",
             message=f"{where} records a case the suite does not have")
    return case


def render(results: Results, known: Expectations | None = None,
           suite_ids: Collection[str] = ()) -> str:
    """The run as a JUnit XML document: one testsuite, one testcase per verdict. With the
    expectations the run is gated on (`known`), it agrees with the gate (see
    Expectations.standing): a recorded failure, unchanged, is skipped as an expected failure
    with its reason; a new, changed or unexpectedly passing case is a failure (an error, where
    it errored or timed out), and so is each entry whose case is neither in `suite_ids` nor
    in the run (on a complete run)."""
    suite = ET.Element("testsuite")
    for verdict in results.verdicts:
        _testcase(suite, verdict, known)
    if known is not None and results.complete:
        ids = set(suite_ids) | {v.case for v in results.verdicts}
        for entry in known.unknown(ids):
            _unknown(suite, entry, known)
    cases = suite.findall("testcase")
    counts = {
        "tests": str(len(cases)),
        "failures": str(sum(c.find("failure") is not None for c in cases)),
        "errors": str(sum(c.find("error") is not None for c in cases)),
        "skipped": str(sum(c.find("skipped") is not None for c in cases)),
        "time": _seconds(results.seconds),
    }
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    root.append(suite)
    suite.attrib.update({k: clean(v) for k, v in {
        "name": f"{SUITE} {results.loader} {spec_name(results.spec)}", **counts}.items()})
    properties = ET.Element("properties")
    suite.insert(0, properties)
    for name, value in (("suite", results.suite), ("loader", results.loader),
                        ("spec", results.spec), ("sandbox", str(results.sandbox).lower()),
                        ("complete", str(results.complete).lower())):
        _element(properties, "property", name=name, value=value)
    if known is not None:
        _element(properties, "property", name="expectations", value=display_path(known.path))
    if not results.complete:
        _element(suite, "system-err", "the run was interrupted before every selected case ran")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write(results: Results, path: Path, known: Expectations | None = None,
          suite_ids: Collection[str] = ()) -> None:
    """Write the JUnit XML atomically (a reader never sees half a file); OutputError when it
    cannot be written. `known` and `suite_ids` as for render."""
    write_atomically(Path(path), render(results, known, suite_ids), "JUnit XML")


class JUnitReporter:
    """JUnit XML as a reporter: written whole at the finish, from every verdict of the run;
    with the expectations the run is gated on, in agreement with the gate (see render).
    `suite_ids()` gives every case id of the suite (see expectations.compare), asked only
    then."""

    lists_cases = True

    def __init__(self, path: Path, known: Expectations | None = None,
                 suite_ids: Callable[[], Collection[str]] = tuple):
        self.path = Path(path)
        self.known = known
        self.suite_ids = suite_ids

    def start(self, plan: Results) -> None:
        pass

    def verdict(self, verdict: Verdict) -> None:
        pass

    def finish(self, results: Results) -> None:
        ids = self.suite_ids() if self.known is not None and results.complete else ()
        write(results, self.path, self.known, ids)
