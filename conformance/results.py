"""The results file: written line by line as cases finish; every view renders from it.

JSON Lines: a header naming the run and every case it plans to run, one line per verdict as
it is reached, and an end line. A run that is interrupted or killed leaves the header and
every finished case; without the end line a reader knows the run stopped, and where.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Mapping

from conformance.case import area_of
from conformance.outcomes import Outcome, Verdict

FORMAT = 2


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
        if verdict.outcome not in (Outcome.PASS, Outcome.SKIP):
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
        return (f"stopped after {self.tally.done} of {total} cases"
                + (f"; the next was {nxt}" if nxt else ""))


def verdict_json(v: Verdict) -> dict[str, Any]:
    return {"id": v.case, "clauses": list(v.clauses), "outcome": v.outcome.value,
            "kind": v.kind, "message": v.message, "seconds": round(v.seconds, 6),
            "details": list(v.details), "blame": list(v.blame)}


def _verdict(c: dict[str, Any]) -> Verdict:
    return Verdict(c["id"], tuple(c["clauses"]), Outcome(c["outcome"]), c["message"],
                   c["seconds"], tuple(c.get("details", ())), c.get("kind", ""),
                   tuple(c.get("blame", ())))


def _header(results: Results) -> dict[str, Any]:
    return {"format": FORMAT, "suite": results.suite, "loader": results.loader,
            "spec": results.spec, "sandbox": results.sandbox, "planned": list(results.planned),
            "features": dict(results.features)}


def _end(results: Results) -> dict[str, Any]:
    return {"end": True, "complete": results.complete, "seconds": round(results.seconds, 6),
            "summary": {o.value: results.count(o) for o in Outcome}}


class Writer:
    """Writes a results file as the run goes: the header now, each verdict as it comes."""

    def __init__(self, path: Path, header: Results):
        self.path = path
        self.header = header
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self._line(_header(header))

    def _line(self, data: dict[str, Any]) -> None:
        self._file.write(json.dumps(data) + "\n")
        self._file.flush()

    def add(self, verdict: Verdict) -> None:
        self._line(verdict_json(verdict))

    def close(self, results: Results) -> None:
        """The end line; a run that never gets here is read back as interrupted."""
        self._line(_end(results))
        self._file.close()


def write(results: Results, path: Path) -> None:
    """Write a whole results file at once (atomically: a reader never sees half of it)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for data in [_header(results), *map(verdict_json, results.verdicts), _end(results)]:
            out.write(json.dumps(data) + "\n")
    tmp.replace(path)


def read(path: Path) -> Results:
    """Read a results file, also one cut short by an interrupted or killed run."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise ValueError("empty results file")
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):  # a last line cut off as the run was killed
                break
            raise ValueError(f"line {number} is not JSON") from None
    header = records[0]
    if header.get("format") != FORMAT:
        raise ValueError(f"not a results file of format {FORMAT}")
    end = records[-1] if len(records) > 1 and records[-1].get("end") else None
    verdicts = tuple(_verdict(r) for r in records[1:] if not r.get("end"))
    return Results(header["suite"], header["loader"], header["spec"], header["sandbox"],
                   verdicts, end["seconds"] if end else sum(v.seconds for v in verdicts),
                   bool(end and end["complete"]), tuple(header.get("planned", ())),
                   dict(header.get("features") or {}))
