"""Expectation files: a loader's known failures, so that CI fails only when a verdict changes."""

from __future__ import annotations

import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Mapping

import yaml

from conformance import SPEC_VERSIONS, schemas
from conformance.clauses import catalogue
from conformance.outcomes import CLEAN, RECORDED, UNRECORDABLE, Outcome, Verdict
from conformance.reporters import AtFinish
from conformance.results import Results, write_atomically
from conformance.text import display_path, one_line
from conformance.yamlfile import Document, YamlError, field_name, read_document

#: An expectations file larger than this is refused unread.
MAX_BYTES = 1 << 20
TOP_KEYS = ("loader", "spec", "failures")
_RECORDED_NAMES = ", ".join(o.value for o in RECORDED)


class ExpectationsError(YamlError):
    """An expectations file that cannot be used; str() is one line: file, line, field, problem."""


@dataclass(frozen=True)
class Expectation:
    """One recorded known failure: the case, how it ends against the loader, and why."""

    case: str
    outcome: Outcome
    reason: str
    #: The line of the entry in its file (None when built by hand); not part of equality.
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Expectations:
    """The known failures of one loader under one spec version, as read from one file."""

    path: Path
    loader: str
    spec: str
    entries: Mapping[str, Expectation]
    #: Lines of the `loader` and `spec` fields, for errors found when comparing.
    loader_line: int | None = field(default=None, compare=False)
    spec_line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Comparison:
    """A run set against an expectations file."""

    #: Case ids that ended as recorded.
    expected: tuple[str, ...]
    #: Verdicts with a recorded outcome (fail, error, timeout, warn) that no entry records.
    new: tuple[Verdict, ...]
    #: Recorded cases that ended with another non-passing outcome.
    changed: tuple[tuple[Expectation, Verdict], ...]
    #: Recorded cases that passed or were not applicable: the expectations are out of date.
    fixed: tuple[tuple[Expectation, Verdict], ...]
    #: Entries whose case id is not in the suite at all: stale or misspelt.
    unknown: tuple[Expectation, ...]
    #: The expectations file compared against.
    path: Path | None = None

    @property
    def ok(self) -> bool:
        return not (self.new or self.changed or self.fixed or self.unknown)


# Reading ---------------------------------------------------------------------------------------

def _scalar_text(doc: Document, key: str) -> str | None:
    """The source text of a top-level scalar value, as written (1.10 stays 1.10)."""
    if isinstance(doc.root, yaml.MappingNode):
        for key_node, value_node in doc.root.value:
            if key_node.value == key and isinstance(value_node, yaml.ScalarNode):
                return value_node.value
    return None


def _worded(doc: Document, error: Any) -> ExpectationsError | None:
    """A schema error of an expectations file (conformance/schema/expectations.schema.json)
    in the words of the field it is about."""
    where = [str(part) for part in error.absolute_path]
    if error.validator == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        if not where:
            return doc.error([missing], f"missing (an expectations file has "
                             f"{', '.join(TOP_KEYS)})")
        # shown on the entry's line: the key that lacks it
        return ExpectationsError(doc.path, doc.line(where, key=True),
                                 field_name(where + [missing]), f"missing; one of "
                                 f"{_RECORDED_NAMES}")
    if where == ["loader"]:
        return doc.error(where, "must be the loader's name as in the results, a non-empty "
                         "string")
    if where == ["spec"]:
        spec = error.instance
        versions = ", ".join(repr(v) for v in SPEC_VERSIONS)
        problem = f"{spec!r} is not one of {versions}"
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            text = _scalar_text(doc, "spec") or str(spec)
            problem = f"{text} is read as a number, not one of {versions}; quote it: " \
                      f"spec: \"{text}\""
        return doc.error(where, problem)
    if where == ["failures"]:
        if "propertyNames" in error.schema_path:
            return doc.error(where + [str(error.instance)], "a case id is a non-empty string "
                             "such as module/id-main-program", key=True)
        return doc.error(where, "must be a mapping of case id -> outcome and reason ({} for "
                         "none)")
    if len(where) == 2:
        return doc.error(where, f"an entry is a mapping with outcome ({_RECORDED_NAMES}) and "
                         "reason")
    if where[2:] == ["outcome"]:
        outcome = error.instance
        if isinstance(outcome, str) and outcome in [o.value for o in CLEAN]:
            return doc.error(where, f"{outcome!r} is no failure: remove the entry (an entry "
                             f"records one of {_RECORDED_NAMES})")
        return doc.error(where, f"{outcome!r} is not one of {_RECORDED_NAMES}")
    if where[2:] == ["reason"]:
        return doc.error(where, "must be a string (quote it, or leave the key out)")
    return None


def load(path: Path | str) -> Expectations:
    """Read and validate an expectations file; raises ExpectationsError with file, line, field."""
    path = Path(path)
    doc = read_document(path, MAX_BYTES, ExpectationsError)
    data = doc.data
    if not isinstance(data, dict):
        raise ExpectationsError(path, doc.line([]), "",
                                "an expectations file holds a mapping (loader, spec, failures)")
    wrong = schemas.first_error(doc, "expectations", _worded)
    if wrong is not None:
        raise wrong
    entries = {}
    for case, value in (data["failures"] or {}).items():
        where = ["failures", case]
        entries[case] = Expectation(case, Outcome(value["outcome"]), value.get("reason", ""),
                                    doc.line(where, key=True))
    return Expectations(path, data["loader"], data["spec"], types.MappingProxyType(entries),
                        doc.line(["loader"]), doc.line(["spec"]))


# Comparing -------------------------------------------------------------------------------------

def compare(expectations: Expectations, results: Results,
            suite_ids: Collection[str]) -> Comparison:
    """Set a run against its expectations. suite_ids: every case id of the suite, whether or
    not it ran (a -k run ignores entries it did not select; an id in no case file is unknown).
    Raises ExpectationsError when the file is for another loader or spec version."""
    if expectations.loader != results.loader:
        raise ExpectationsError(expectations.path, expectations.loader_line, "loader",
                                f"the expectations are for loader {expectations.loader!r}, "
                                f"the results are from {results.loader!r}")
    if expectations.spec != results.spec:
        raise ExpectationsError(expectations.path, expectations.spec_line, "spec",
                                f"the expectations are for Modules/{expectations.spec}, "
                                f"the run targeted Modules/{results.spec}")
    entries = expectations.entries
    expected: list[str] = []
    new: list[Verdict] = []
    changed: list[tuple[Expectation, Verdict]] = []
    fixed: list[tuple[Expectation, Verdict]] = []
    for verdict in results.verdicts:
        entry = entries.get(verdict.case)
        if verdict.kind in UNRECORDABLE:
            new.append(verdict)
        elif verdict.outcome in RECORDED:
            if entry is None:
                new.append(verdict)
            elif entry.outcome is verdict.outcome:
                expected.append(verdict.case)
            else:
                changed.append((entry, verdict))
        elif entry is not None:
            fixed.append((entry, verdict))
    known = set(suite_ids) | {v.case for v in results.verdicts}
    unknown = [entry for case, entry in entries.items() if case not in known]
    return Comparison(tuple(expected), tuple(new), tuple(changed), tuple(fixed), tuple(unknown),
                      expectations.path)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def lines(comparison: Comparison) -> list[str]:
    """What the terminal shows: one line per problem, then a summary line."""
    out = []
    for v in comparison.new:
        out.append(f"NEW {v.outcome.value.upper()} {v.case}: {one_line(v.message)}")
    for entry, v in comparison.changed:
        out.append(f"CHANGED {v.case}: recorded {entry.outcome.value}, now {v.outcome.value}: "
                   f"{one_line(v.message)}")
    for entry, v in comparison.fixed:
        now = {Outcome.PASS: "", Outcome.SKIP: ", now not applicable"}.get(
            v.outcome, f", now {v.outcome.value}")
        out.append(f"UNEXPECTED PASS {v.case}: recorded {entry.outcome.value}{now} "
                   "(update the expectations)")
    for entry in comparison.unknown:
        where = display_path(comparison.path) if comparison.path else "the expectations"
        where += f":{entry.line}" if entry.line else ""
        out.append(f"UNKNOWN CASE {one_line(entry.case)} in {where}: no such case in the suite")
    out.append("expectations: "
               + _plural(len(comparison.expected), "known failure", "known failures")
               + f" as recorded, {len(comparison.new)} new, {len(comparison.changed)} changed, "
               + _plural(len(comparison.fixed), "unexpected pass", "unexpected passes") + ", "
               + _plural(len(comparison.unknown), "unknown entry", "unknown entries"))
    return out


# Writing ---------------------------------------------------------------------------------------

class _Quoted(str):
    """A string always written double-quoted (the spec version, so YAML never reads a number)."""


class _Block(str):
    """A string of several lines, written as a literal block where YAML allows it."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Quoted, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", str(s), style='"'))
# PyYAML falls back to a quoted style by itself when a literal block cannot hold the text
# (trailing spaces, control characters), so every string survives the round trip.
_Dumper.add_representer(
    _Block, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", str(s), style="|"))


def _text(value: str) -> str:
    return _Block(value) if "\n" in value.strip("\n") else value


def _space_entries(body: str) -> str:
    """A blank line between the entries of failures, for the eye; kept only if the document
    still reads the same (it always does: entry keys are the only lines indented by two)."""
    head, sep, entries = body.partition("\nfailures:\n")
    if not sep:  # failures: {}
        return body
    spaced = head + sep + re.sub(r"\n(?=  [^ \n])", "\n\n", entries)
    return spaced if yaml.safe_load(spaced) == yaml.safe_load(body) else body


def check_replaceable(previous: Expectations, loader: str, spec: str) -> None:
    """Raise ExpectationsError when previous records another loader or spec version than the
    run about to replace it: its hand-written reasons would be lost (--force replaces it)."""
    for field_, recorded, now, line in (
            ("loader", repr(previous.loader), repr(loader), previous.loader_line),
            ("spec", f"Modules/{previous.spec}", f"Modules/{spec}", previous.spec_line)):
        if recorded != now:
            raise ExpectationsError(
                previous.path, line, field_,
                f"the file records {field_} {recorded}, this run is {now}: --write-expectations "
                "would replace its entries and their reasons; write to another file, or add "
                "--force to replace it")


def first_reason(verdict: Verdict, spec: str) -> str:
    """A new entry's reason until someone writes a better one: what happened, and the sentence
    of the spec each blamed clause rests on."""
    clauses = catalogue()
    grounds = []
    for clause_id in verdict.blame:
        clause = clauses.get(clause_id)
        if clause is not None and clause.quote:
            level = clause.level_in(spec) or "?"
            grounds.append(f'{clause_id} ({level}, Modules/{spec} {clause.ref.get(spec, "")}): '
                           f'"{clause.quote}"')
    if not grounds:
        return verdict.message
    return f"{verdict.message} Rests on " + "; ".join(grounds)


def dump(results: Results, previous: Expectations | None = None) -> str:
    """The expectations file recording every case of results that did not pass (fail, error,
    timeout, warn), sorted by case id. A reason in previous is kept while its case ends the
    same way (and the file is for the same loader and spec); otherwise the verdict's message is."""
    kept = previous.entries if previous is not None and previous.loader == results.loader \
        and previous.spec == results.spec else {}
    failures: dict[str, dict[str, str]] = {}
    for v in sorted((v for v in results.verdicts
                     if v.outcome in RECORDED and v.kind not in UNRECORDABLE),
                    key=lambda v: v.case):
        old = kept.get(v.case)
        reason = old.reason if old is not None and old.outcome is v.outcome and old.reason \
            else first_reason(v, results.spec)
        failures[v.case] = {"outcome": v.outcome.value, "reason": _text(reason)}
    document = {"loader": results.loader, "spec": _Quoted(results.spec), "failures": failures}
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)
    body = _space_entries(body)
    ran = _plural(len(results.verdicts), "case", "cases")
    header = [
        f"# Known failures of the loader {one_line(results.loader)} against commonjs-conformance "
        f"{one_line(results.suite)}, Modules/{one_line(results.spec)}.",
        f"# Written by --write-expectations from a run of {ran}"
        + ("" if results.complete else " that was interrupted") + ".",
        "# A run checked against this file fails only when a case ends otherwise than",
        "# recorded here. Edit the reasons freely: rewriting the file keeps a reason as long as",
        "# its case ends the same way.",
        "# outcome: " + " | ".join(o.value for o in RECORDED),
    ]
    return "\n".join(header) + "\n" + body


def write(path: Path, text: str) -> None:
    """Write an expectations file atomically (a reader never sees half a file); OutputError
    when it cannot be written."""
    write_atomically(Path(path), text, "the expectations")


# Reporting -------------------------------------------------------------------------------------

class RecordReporter(AtFinish):
    """--write-expectations as a reporter: at the finish of a complete run, the file recording
    its failures (the reasons in `previous` kept where a case ends the same way); an interrupted
    run writes none, and says so."""

    lists_cases = True

    def __init__(self, path: Path, previous: Expectations | None):
        self.path = path
        self.previous = previous

    def finish(self, results: Results) -> None:
        if not results.complete:
            print("the run was interrupted: expectations not written", file=sys.stderr)
            return
        write(self.path, dump(results, self.previous))
        print(f"recorded {sum(results.count(o) for o in RECORDED)} known failure(s) in "
              f"{self.path}")


class CheckReporter(AtFinish):
    """--expectations as a reporter: at the finish of a complete run, the run set against the
    known failures, a line for each difference and a summary line. Then `comparison` holds the
    result, or `error` why the file does not fit the run (another loader or spec version).
    `suite_ids()` gives every case id of the suite (see compare); it is asked only then."""

    lists_cases = True

    def __init__(self, known: Expectations, suite_ids: Callable[[], Collection[str]]):
        self.known = known
        self.suite_ids = suite_ids
        self.comparison: Comparison | None = None
        self.error: ExpectationsError | None = None

    def finish(self, results: Results) -> None:
        if not results.complete:
            return
        try:
            self.comparison = compare(self.known, results, self.suite_ids())
        except ExpectationsError as exc:
            self.error = exc
            print(exc, file=sys.stderr)
            return
        print("\n".join(lines(self.comparison)))
