"""The results file: written line by line as cases finish; every view renders from it.

JSON Lines: a header naming the run and every case it plans to run, one line per verdict as
it is reached, and an end line. A run that is interrupted or killed leaves the header and
every finished case; without the end line a reader knows the run stopped, and where.
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Mapping

from conformance.case import area_of
from conformance.outcomes import CLEAN, Kind, Outcome, Verdict
from conformance.text import counted

FORMAT = 2


class OutputError(Exception):
    """An output file that cannot be written; str() is one line naming it and why."""


class ResultsError(ValueError):
    """A file that is not a readable results file; str() is one line: file, line, problem."""

    def __init__(self, path: Path, line: int | None, problem: str):
        self.path, self.line, self.problem = path, line, problem
        super().__init__(f"{path}{f':{line}' if line else ''}: {problem}")


@dataclass
class Tally:
    """What a run's summary needs, counted as verdicts arrive: how many there were, their
    outcomes overall and by area, and in full only those a summary shows (every verdict that
    is not a pass or not applicable). Its size grows with those, not with passing cases."""

    done: int = 0
    counts: Counter[Outcome] = field(default_factory=Counter)
    areas: dict[str, Counter[Outcome]] = field(default_factory=dict)
    shown: list[Verdict] = field(default_factory=list)

    @classmethod
    def of(cls, verdicts: Iterable[Verdict]) -> Tally:
        tally = cls()
        for verdict in verdicts:
            tally.add(verdict)
        return tally

    def add(self, verdict: Verdict) -> None:
        self.done += 1
        self.counts[verdict.outcome] += 1
        self.areas.setdefault(area_of(verdict.case), Counter())[verdict.outcome] += 1
        if verdict.outcome not in CLEAN:
            self.shown.append(verdict)


@dataclass(frozen=True)
class Results:
    """One run of the suite against one loader."""

    suite: str
    loader: str
    spec: str
    sandbox: bool
    #: Every verdict, in the planned order; empty where the run kept only its tally (no view
    #: that lists every case was asked for).
    verdicts: tuple[Verdict, ...]
    seconds: float
    #: False when the run stopped before every planned case ran.
    complete: bool = True
    #: The ids of the cases the run set out to run, in order (empty: the ones it has).
    planned: tuple[str, ...] = ()
    #: The loader's optional features as the run knew them: name -> "present (probed)",
    #: "absent (declared)", "unknown", ...
    features: Mapping[str, str] = field(default_factory=dict)
    #: How the loader's runs were confined ("environment", "bwrap"); "" when they were not.
    confinement: str = ""
    #: The counts of the run; counted from verdicts when not given.
    tally: Tally = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self):
        if self.tally is None:
            object.__setattr__(self, "tally", Tally.of(self.verdicts))

    def count(self, outcome: Outcome) -> int:
        return self.tally.counts[outcome]

    @property
    def ok(self) -> bool:
        return self.complete and all(o.ok for o, n in self.tally.counts.items() if n)

    @property
    def nothing_tested(self) -> bool:
        """Cases ran, and every one was not applicable: the loader was judged on nothing."""
        return self.tally.done > 0 and self.count(Outcome.SKIP) == self.tally.done

    @property
    def stopped_at(self) -> str | None:
        """The first planned case that did not run, where the run stopped early (verdicts come
        in the planned order)."""
        done = self.tally.done
        return self.planned[done] if done < len(self.planned) else None

    def where_stopped(self) -> str:
        """'' for a complete run, else a phrase saying how far it got."""
        if self.complete:
            return ""
        total = len(self.planned) or self.tally.done
        nxt = self.stopped_at
        return (f"stopped after {self.tally.done} of {counted(total, 'case')}"
                + (f"; the next was {nxt}" if nxt else ""))


def verdict_json(v: Verdict) -> dict[str, Any]:
    return {"id": v.case, "clauses": list(v.clauses), "outcome": v.outcome.value,
            "kind": v.kind.value, "message": v.message, "seconds": round(v.seconds, 6),
            "details": list(v.details), "blame": list(v.blame)}


def _header(results: Results) -> dict[str, Any]:
    return {"format": FORMAT, "suite": results.suite, "loader": results.loader,
            "spec": results.spec, "sandbox": results.sandbox, "planned": list(results.planned),
            "features": dict(results.features), "confinement": results.confinement}


def _end(results: Results) -> dict[str, Any]:
    return {"end": True, "complete": results.complete, "seconds": round(results.seconds, 6),
            "summary": {o.value: results.count(o) for o in Outcome}}


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_output(path: Path, what: str) -> None:
    """Raise OutputError unless a file can be written at path: its directory exists and is
    writable, and path is not a directory. Checked before a run, so that no run's work is lost
    to a typo in an output path."""
    path = Path(path)
    parent = path.parent
    if path.is_dir():
        raise OutputError(f"{what} {path}: is a directory")
    if not parent.is_dir():
        raise OutputError(f"{what} {path}: no directory {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {path}: the directory {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{what} {path}: not writable")


def check_output_dir(path: Path, what: str) -> None:
    """Raise OutputError unless a directory can be made or written at path: the nearest part
    of it that exists is a writable directory."""
    existing = Path(path)
    while not existing.exists() and not existing.is_symlink() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{what} {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {path}: {existing} is not writable")


def write_atomically(path: Path, text: str, what: str = "") -> None:
    """Write text to path through a temporary file of its own beside it, renamed over path at
    the end: a reader, a second writer or an interruption never leaves half a file, and a failed
    write leaves what was there. Raises OutputError (one line) when the write fails."""
    path = Path(path)
    name = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(name, 0o644 & ~_umask())
        os.replace(name, path)
        name = None
    except OSError as exc:
        raise OutputError(f"could not write {what + ' ' if what else ''}{path}: "
                          f"{_reason(exc)}") from None
    finally:
        if name is not None:
            try:
                os.unlink(name)
            except OSError:
                pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class Writer:
    """The results file, written as the run goes (a reporter, see conformance.reporters): the
    header at the start, a line per verdict as it comes, the end line at the finish.

    The file is locked while the run writes it (a second run streaming to the same file is
    refused at the start, not interleaved). A write that fails (a full disk, a vanished
    directory) stops the stream there: what was written stays readable, `failure` says what
    happened, and the call that met it raises OutputError with that line."""

    lists_cases = False

    def __init__(self, path: Path):
        self.path = path
        self.failure: str | None = None
        self.lines = 0
        self._file: IO[str] | None = None

    def start(self, plan: Results) -> None:
        """Open and lock the file, and write the header; OutputError when the run may not write
        it (another run holds it, the directory is gone)."""
        path = self.path
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
        except OSError as exc:
            raise OutputError(f"could not write the results file {path}: {_reason(exc)}") \
                from None
        try:
            _lock(fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise OutputError(f"the results file {path} is being written by another run") \
                    from None
            raise OutputError(f"could not lock the results file {path}: {_reason(exc)}") \
                from None
        os.ftruncate(fd, 0)  # only now: the run that holds the lock owns the contents
        self._file = os.fdopen(fd, "w", encoding="utf-8")
        self._line(_header(plan))
        if self.failure:
            self._file.close()
            raise OutputError(self.failure)

    def _line(self, data: dict[str, Any]) -> None:
        if self.failure or self._file is None:
            return
        try:
            self._file.write(json.dumps(data) + "\n")
            self._file.flush()
            self.lines += 1
        except OSError as exc:
            self.failure = (f"could not write the results file {self.path}: {_reason(exc)}; it "
                            f"holds the first {counted(max(self.lines - 1, 0), 'case')}")
            try:  # drop what is buffered, so a half line is all that can follow
                self._file.close()
            except OSError:
                pass

    def _raise_if_failed(self) -> None:
        if self.failure:
            raise OutputError(self.failure)

    def verdict(self, verdict: Verdict) -> None:
        self._line(verdict_json(verdict))
        self._raise_if_failed()

    def finish(self, results: Results) -> None:
        """The end line; a run that never gets here is read back as interrupted."""
        self._line(_end(results))
        if not self.failure and self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                self.failure = f"could not write the results file {self.path}: {_reason(exc)}"
        self._raise_if_failed()


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX: the file is written without a lock
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def render(results: Results) -> str:
    """A whole results file as text."""
    return "".join(json.dumps(data) + "\n" for data in
                   [_header(results), *map(verdict_json, results.verdicts), _end(results)])


def write(results: Results, path: Path) -> None:
    """Write a whole results file at once (atomically: a reader never sees half of it)."""
    write_atomically(path, render(results), "the results file")


# Reading -------------------------------------------------------------------------------------

def _need(path: Path, line: int, record: Any, key: str, kind: type | tuple[type, ...],
          what: str, optional: bool = False) -> Any:
    if not isinstance(record, dict):
        raise ResultsError(path, line, "a line of a results file is a JSON object")
    if key not in record:
        if optional:
            return None
        raise ResultsError(path, line, f"no field {key!r}")
    value = record[key]
    bad = not isinstance(value, kind) or (isinstance(value, bool) and bool not in (
        kind if isinstance(kind, tuple) else (kind,)))
    if isinstance(value, float) and not math.isfinite(value):
        bad = True
    if bad:
        raise ResultsError(path, line, f"field {key!r} must be {what}")
    return value


def _strings(path: Path, line: int, record: dict, key: str, optional: bool = True) -> tuple:
    value = _need(path, line, record, key, list, "a list of strings", optional)
    if value is None:
        return ()
    if not all(isinstance(item, str) for item in value):
        raise ResultsError(path, line, f"field {key!r} must be a list of strings")
    return tuple(value)


def _verdict(path: Path, line: int, c: Any) -> Verdict:
    text, number = "a string", "a finite number"
    outcome = _need(path, line, c, "outcome", str, text)
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise ResultsError(path, line, f"outcome {outcome!r} is not one of "
                           f"{', '.join(o.value for o in Outcome)}") from None
    kind = _need(path, line, c, "kind", str, text, True) or ""
    try:
        kind = Kind(kind)
    except ValueError:
        raise ResultsError(path, line, f"kind {kind!r} is not one of "
                           f"{', '.join(k.value for k in Kind if k.value)} or empty") from None
    return Verdict(_need(path, line, c, "id", str, text), _strings(path, line, c, "clauses", False),
                   outcome, _need(path, line, c, "message", str, text),
                   float(_need(path, line, c, "seconds", (int, float), number)),
                   _strings(path, line, c, "details"), kind, _strings(path, line, c, "blame"),
                   read_back=True)


def _features(path: Path, header: dict) -> dict[str, str]:
    features = header.get("features") or {}
    if not isinstance(features, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in features.items()):
        raise ResultsError(path, 1, "field 'features' must map names to strings")
    return dict(features)


def read(path: Path) -> Results:
    """Read a results file, also one cut short by an interrupted or killed run. Anything else
    (not JSON lines, another format, a field of the wrong type) raises ResultsError, one line
    naming the file and the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ResultsError(path, None, "not UTF-8 text: not a results file") from None
    except OSError as exc:
        raise ResultsError(path, None, _reason(exc)) from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise ResultsError(path, None, "empty: not a results file")
    records = []
    for index, (number, line) in enumerate(lines):
        try:
            records.append((number, json.loads(line)))
        except (json.JSONDecodeError, RecursionError, ValueError):
            if index == len(lines) - 1 and index > 0:  # a last line cut off as the run was killed
                break
            raise ResultsError(path, number, "not a JSON line: not a results file") from None
    number, header = records[0]
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ResultsError(path, number, f"not a results file of format {FORMAT} (the first "
                           "line is a header with \"format\": " f"{FORMAT})")
    text_ = "a string"
    suite = _need(path, number, header, "suite", str, text_)
    loader = _need(path, number, header, "loader", str, text_)
    spec = _need(path, number, header, "spec", str, text_)
    sandbox = _need(path, number, header, "sandbox", bool, "true or false")
    planned = _strings(path, number, header, "planned")
    features = _features(path, header)
    confinement = header.get("confinement", "")
    if not isinstance(confinement, str):
        raise ResultsError(path, number, "field 'confinement' must be a string")
    last_number, last = records[-1]
    end = last if len(records) > 1 and isinstance(last, dict) and last.get("end") else None
    verdicts = tuple(_verdict(path, n, r) for n, r in records[1:]
                     if not (isinstance(r, dict) and r.get("end")))
    if end is not None:
        complete = _need(path, last_number, end, "complete", bool, "true or false")
        seconds = float(_need(path, last_number, end, "seconds", (int, float), "a finite number"))
    else:
        complete, seconds = False, sum(v.seconds for v in verdicts)
    return Results(suite, loader, spec, sandbox, verdicts, seconds, complete, planned, features,
                   confinement)
