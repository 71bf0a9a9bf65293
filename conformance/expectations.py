"""Expectation files: a loader's known failures, so that CI fails only when a verdict changes."""

from __future__ import annotations

import enum
import os
import re
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Mapping

import yaml

from conformance import schemas
from conformance.clauses import catalogue, spec_name
from conformance.harness import KEY_LENGTH
from conformance.outcomes import CLEAN, RECORDED, UNRECORDABLE, Kind, Outcome, Verdict
from conformance.reporters import AtFinish
from conformance.results import Results, write_atomically
from conformance.text import counted, display_path, one_line
from conformance.yamlfile import Document, YamlError, field_name, read_document

#: An expectations file larger than this is refused unread.
MAX_BYTES = 1 << 20
TOP_KEYS = ("loader", "spec", "failures")
_RECORDED_NAMES = ", ".join(o.value for o in RECORDED)

#: Kinds of failure an entry may record: those that go with a recorded outcome, but for the
#: unrecordable ones (a host's state leak: no run with one is green).
RECORDED_KINDS: tuple[Kind, ...] = tuple(
    k for k in Kind if set(k.outcomes) & set(RECORDED) and k not in UNRECORDABLE)
#: Kinds that come from failed assertions: the first failing assertion identifies the failure.
ASSERTION_KINDS = (Kind.ASSERTION_FAILED, Kind.SHOULD_BREACHED, Kind.READING_NOT_MET,
                   Kind.PRECONDITION_FAILED)
#: Kinds whose message says nothing stable about the program (a time limit and a command line,
#: a signal, an output flood, a broken protocol): the kind alone identifies the failure.
KIND_ONLY = (Kind.TIMEOUT, Kind.LOADER_UNAVAILABLE, Kind.LOADER_CRASHED, Kind.OUTPUT_LIMIT,
             Kind.PROTOCOL_VIOLATION)


class ExpectationsError(YamlError):
    """An expectations file that cannot be used; str() is one line: file, line, field, problem."""


# What identifies a failure -----------------------------------------------------------------------

def _temporary_roots() -> list[str]:
    """Directories under which loaders and drivers make the run's temporary directories."""
    roots = {"/tmp", "/var/tmp", "/dev/shm"}
    for root in (tempfile.gettempdir(),):
        roots |= {root, os.path.realpath(root)}
    return sorted((r.rstrip("/") for r in roots if r.strip("/")), key=len, reverse=True)


#: A temporary directory made for one run: a temporary root and the (random) name below it.
_TEMPORARY = re.compile("(?:" + "|".join(re.escape(r) for r in _temporary_roots())
                        + r")/[^/\s'\"`()\[\]{},;:]+")
#: The harness key of one run, as a word of its own or in the name of the global the harness
#: keeps its state in (conformanceHarness.js: 'conformanceHarnessState' + key).
_KEY = re.compile(rf"(?:(?<=conformanceHarnessState)|(?<![0-9A-Za-z]))[0-9a-f]{{{KEY_LENGTH}}}"
                  r"(?![0-9A-Za-z])")
#: A failed assertion among a verdict's details, as the judge writes it: FAIL <n> <message>.
_FAILED = re.compile(r"FAIL (\d+)(?: (.*))?", re.S)


def stable(text: str) -> str:
    """Text from one run with what differs from run to run written as placeholders: a temporary
    directory as {tmp}, the harness key as {key} (the module tree is already {root})."""
    return _KEY.sub("{key}", _TEMPORARY.sub("{tmp}", text))


def failure_of(verdict: Verdict) -> str | None:
    """What identifies the failure of `verdict` from run to run: the first failing assertion
    ('assertion 2 failed: ...') for failed assertions, else the verdict's message (the error,
    how far the program got), with run-specific parts made placeholders (see stable). None for
    a verdict that did not fail, and for kinds the kind alone identifies (KIND_ONLY)."""
    if verdict.outcome in CLEAN or verdict.kind in KIND_ONLY or verdict.kind is Kind.NONE:
        return None
    if verdict.kind in ASSERTION_KINDS:
        for line in verdict.details:
            found = _FAILED.fullmatch(line)
            if found:
                return stable(f"assertion {found.group(1)} failed: {found.group(2) or ''}")
    return stable(verdict.message)


@dataclass(frozen=True)
class Expectation:
    """One recorded known failure: the case, how it ends against the loader (outcome, kind,
    the failure itself), and why."""

    case: str
    outcome: Outcome
    reason: str
    #: The kind of failure; None in a file written before kinds were recorded (see
    #: Expectations.legacy): such an entry holds the outcome alone.
    kind: Kind | None = None
    #: What identifies the failure (see failure_of); None where the kind alone does.
    failure: str | None = None
    #: The line of the entry in its file (None when built by hand); not part of equality.
    line: int | None = field(default=None, compare=False)

    def matches(self, verdict: Verdict) -> bool:
        """Whether `verdict` is the failure recorded here: the same outcome, the same kind
        and the same failure (where the entry records them)."""
        return verdict.outcome is self.outcome and verdict.kind not in UNRECORDABLE \
            and (self.kind is None or verdict.kind is self.kind) \
            and (self.failure is None or failure_of(verdict) == self.failure)

    def describe(self) -> str:
        """The recorded failure in a few words: outcome, kind, failure."""
        text = self.outcome.value + (f" ({self.kind.value})" if self.kind else "")
        return text + (f": {one_line(self.failure)}" if self.failure else "")


class Standing(enum.Enum):
    """Where a verdict stands against an expectations file: the gate's one decision."""

    EXPECTED = "expected"        # a recorded failure, unchanged: the gate lets it through
    NEW = "new"                  # a failure no entry records (or one never recorded: a leak)
    CHANGED = "changed"          # recorded, but it now fails otherwise (outcome, kind, failure)
    FIXED = "unexpected pass"    # recorded, and it now passes or does not apply
    CLEAN = "clean"              # nothing recorded and nothing failed


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

    def standing(self, verdict: Verdict) -> tuple[Standing, Expectation | None]:
        """Where `verdict` stands against these expectations, and the entry for its case (or
        None). Every view of the gate (the exit status, JUnit, the terminal) decides by this."""
        entry = self.entries.get(verdict.case)
        if verdict.kind in UNRECORDABLE:
            return Standing.NEW, entry
        if verdict.outcome in RECORDED:
            if entry is None:
                return Standing.NEW, None
            return (Standing.EXPECTED if entry.matches(verdict) else Standing.CHANGED), entry
        return (Standing.CLEAN, None) if entry is None else (Standing.FIXED, entry)

    def known(self, verdict: Verdict) -> str | None:
        """The recorded reason when `verdict` is a recorded failure, unchanged (never empty: an
        entry without a reason gives 'recorded in FILE'); None for anything else."""
        standing, entry = self.standing(verdict)
        if standing is not Standing.EXPECTED or entry is None:
            return None
        return entry.reason or f"recorded in {display_path(self.path)}"

    def unknown(self, case_ids: Collection[str]) -> tuple[Expectation, ...]:
        """The entries whose case is not among `case_ids`: stale or misspelt."""
        ids = set(case_ids)
        return tuple(entry for case, entry in self.entries.items() if case not in ids)

    @property
    def legacy(self) -> tuple[Expectation, ...]:
        """Entries written before kinds and failures were recorded: they hold the outcome
        alone, so --expectations refuses the file until it is re-recorded."""
        return tuple(entry for entry in self.entries.values() if entry.kind is None)


@dataclass(frozen=True)
class Comparison:
    """A run set against an expectations file."""

    #: Case ids that ended as recorded.
    expected: tuple[str, ...]
    #: Verdicts with a recorded outcome (fail, error, timeout, warn) that no entry records.
    new: tuple[Verdict, ...]
    #: Recorded cases that now fail otherwise: another outcome, kind or failure.
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
        return doc.error(where, schemas.spec_problem(doc, error.instance))
    if where == ["failures"]:
        if "propertyNames" in error.schema_path:
            return doc.error(where + [str(error.instance)], "a case id is a non-empty string "
                             "such as module/id-main-program", key=True)
        return doc.error(where, "must be a mapping of case id -> outcome, kind, failure and "
                         "reason ({} for none)")
    if len(where) == 2:
        return doc.error(where, f"an entry is a mapping with outcome ({_RECORDED_NAMES}), "
                         "kind, failure and reason")
    if where[2:] == ["outcome"]:
        outcome = error.instance
        if isinstance(outcome, str) and outcome in [o.value for o in CLEAN]:
            return doc.error(where, f"{outcome!r} is no failure: remove the entry (an entry "
                             f"records one of {_RECORDED_NAMES})")
        return doc.error(where, f"{outcome!r} is not one of {_RECORDED_NAMES}")
    if where[2:] == ["kind"]:
        return doc.error(where, f"{schemas.short(error.instance)} is not a kind of failure an "
                         f"entry records ({', '.join(k.value for k in RECORDED_KINDS)})")
    if where[2:] in (["reason"], ["failure"]):
        return doc.error(where, "must be a string (quote it, or leave the key out)")
    return None


def load(path: Path | str) -> Expectations:
    """Read and validate an expectations file; raises ExpectationsError with file, line, field.
    A file written before kinds were recorded loads (its entries' kind is None: see
    Expectations.legacy); check_current refuses it where the gate needs more."""
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
        outcome = Outcome(value["outcome"])
        kind = Kind(value["kind"]) if "kind" in value else None
        if kind is not None and outcome not in kind.outcomes:
            raise doc.error(where + ["kind"], f"{kind.value!r} does not go with outcome "
                            f"{outcome.value} (it goes with "
                            f"{', '.join(o.value for o in kind.outcomes)})")
        entries[case] = Expectation(case, outcome, value.get("reason", ""), kind,
                                    value.get("failure"), line=doc.line(where, key=True))
    return Expectations(path, data["loader"], data["spec"], types.MappingProxyType(entries),
                        doc.line(["loader"]), doc.line(["spec"]))


def check_current(expectations: Expectations) -> None:
    """Raise ExpectationsError (naming the first such entry's line) when the file holds entries
    written before kinds were recorded: the gate could not tell a changed failure from the
    recorded one."""
    old = expectations.legacy
    if old:
        entry = min(old, key=lambda e: e.line or 0)
        raise ExpectationsError(
            expectations.path, entry.line, field_name(["failures", entry.case, "kind"]),
            f"missing ({len(old)} of {len(expectations.entries)} entries record the outcome "
            "alone, from before kinds and failures were recorded); re-record the file with "
            f"--write-expectations {display_path(expectations.path)}: reasons are kept")


def check_fits(expectations: Expectations, loader: str, spec: str) -> None:
    """Raise ExpectationsError when the file records another loader or spec version than the
    run's: checked before anything runs."""
    if expectations.loader != loader:
        raise ExpectationsError(expectations.path, expectations.loader_line, "loader",
                                f"the expectations are for loader {expectations.loader!r}, "
                                f"this run is loader {loader!r}")
    if expectations.spec != spec:
        raise ExpectationsError(expectations.path, expectations.spec_line, "spec",
                                f"the expectations are for {spec_name(expectations.spec)}, "
                                f"the run targets {spec_name(spec)}")


# Comparing -------------------------------------------------------------------------------------

def compare(expectations: Expectations, results: Results,
            suite_ids: Collection[str]) -> Comparison:
    """Set a run against its expectations, verdict by verdict (Expectations.standing).
    suite_ids: every case id of the suite, whether or not it ran (a -k run ignores entries it
    did not select; an id in no case file is unknown). Raises ExpectationsError when the file
    is for another loader or spec version."""
    check_fits(expectations, results.loader, results.spec)
    expected: list[str] = []
    new: list[Verdict] = []
    changed: list[tuple[Expectation, Verdict]] = []
    fixed: list[tuple[Expectation, Verdict]] = []
    for verdict in results.verdicts:
        standing, entry = expectations.standing(verdict)
        if standing is Standing.EXPECTED:
            expected.append(verdict.case)
        elif standing is Standing.NEW:
            new.append(verdict)
        elif standing is Standing.CHANGED:
            changed.append((entry, verdict))
        elif standing is Standing.FIXED:
            fixed.append((entry, verdict))
    unknown = expectations.unknown(set(suite_ids) | {v.case for v in results.verdicts})
    return Comparison(tuple(expected), tuple(new), tuple(changed), tuple(fixed), unknown,
                      expectations.path)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def now(verdict: Verdict) -> str:
    """How a verdict fails, in the words of Expectation.describe: outcome, kind, message."""
    kind = f" ({verdict.kind.value})" if verdict.kind is not Kind.NONE else ""
    return f"{verdict.outcome.value}{kind}: {one_line(verdict.message)}"


def lines(comparison: Comparison) -> list[str]:
    """What the terminal shows: one line per problem, then a summary line."""
    out = []
    for v in comparison.new:
        out.append(f"NEW {v.outcome.value.upper()} {v.case}: {one_line(v.message)}")
    for entry, v in comparison.changed:
        out.append(f"CHANGED {v.case}: recorded {entry.describe()}; now {now(v)}")
    for entry, v in comparison.fixed:
        shown = {Outcome.PASS: "", Outcome.SKIP: ", now not applicable"}.get(
            v.outcome, f", now {v.outcome.value}")
        out.append(f"UNEXPECTED PASS {v.case}: recorded {entry.outcome.value}{shown} "
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
            ("spec", spec_name(previous.spec), spec_name(spec), previous.spec_line)):
        if recorded != now:
            raise ExpectationsError(
                previous.path, line, field_,
                f"the file records {field_} {recorded}, this run is {now}: --write-expectations "
                "would replace its entries and their reasons; write to another file, or add "
                "--force to replace it")


def first_reason(verdict: Verdict, spec: str) -> str:
    """A new entry's reason until someone writes a better one: what happened, and the sentence
    of the spec each blamed clause rests on."""
    clauses = catalogue(spec)
    grounds = []
    for clause_id in verdict.blame:
        clause = clauses.get(clause_id)
        if clause is not None and clause.quote:
            level = clause.level_in(spec) or "?"
            grounds.append(f'{clause_id} ({level}, {spec_name(spec)} {clause.ref.get(spec, "")}): '
                           f'"{clause.quote}"')
    message = stable(verdict.message)
    if not grounds:
        return message
    return f"{message.rstrip('.')}. Rests on " + "; ".join(grounds)


def dump(results: Results, previous: Expectations | None = None) -> str:
    """The expectations file recording every case of results that did not pass (fail, error,
    timeout, warn, blocked), sorted by case id: its outcome, kind, failure (see failure_of) and
    reason. A reason in previous is kept while its case fails as recorded there (and the file
    is for the same loader and spec; an entry of an older file, which records the outcome
    alone, is unchanged while the outcome is); otherwise the verdict's message is."""
    kept = previous.entries if previous is not None and previous.loader == results.loader \
        and previous.spec == results.spec else {}
    failures: dict[str, dict[str, str]] = {}
    for v in sorted((v for v in results.verdicts
                     if v.outcome in RECORDED and v.kind not in UNRECORDABLE),
                    key=lambda v: v.case):
        old = kept.get(v.case)
        reason = old.reason if old is not None and old.matches(v) and old.reason \
            else first_reason(v, results.spec)
        entry = {"outcome": v.outcome.value, "kind": v.kind.value}
        failure = failure_of(v)
        if failure is not None:
            entry["failure"] = _text(failure)
        entry["reason"] = _text(reason)
        failures[v.case] = entry
    document = {"loader": results.loader, "spec": _Quoted(results.spec), "failures": failures}
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)
    body = _space_entries(body)
    ran = _plural(len(results.verdicts), "case", "cases")
    header = [
        f"# Known failures of the loader {one_line(results.loader)} against commonjs-conformance "
        f"{one_line(results.suite)}, {one_line(spec_name(results.spec))}.",
        f"# Written by --write-expectations from a run of {ran}"
        + ("" if results.complete else " that was interrupted") + ".",
        "# A run checked against this file fails when a case fails otherwise than recorded",
        "# here: another outcome, kind or failure (the first failing assertion, or the error).",
        "# Edit the reasons freely: rewriting the file keeps a reason as long as its case fails",
        "# the same way. Leave out an entry's failure to accept any failure of its kind.",
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
    its failures (the reasons in `previous` kept where a case fails the same way); an
    interrupted run writes none, and says so."""

    lists_cases = True

    def __init__(self, path: Path, previous: Expectations | None):
        self.path = path
        self.previous = previous
        #: True once the file is written and records every failure of the run (none of a kind
        #: never recorded, a state leak): the run then exits 0 however many cases failed.
        self.written = False

    def finish(self, results: Results) -> None:
        if not results.complete:
            print("the run was interrupted: expectations not written", file=sys.stderr)
            return
        write(self.path, dump(results, self.previous))
        unrecorded = [v.case for v in results.verdicts if v.kind in UNRECORDABLE]
        self.written = not unrecorded
        if unrecorded:
            print(f"{counted(len(unrecorded), 'failure')} of a kind never recorded (first: "
                  f"{unrecorded[0]}): no run with them passes", file=sys.stderr)
        print(f"recorded {counted(sum(results.count(o) for o in RECORDED), 'known failure')} in "
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
