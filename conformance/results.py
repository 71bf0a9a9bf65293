"""The results document: written first, every view (terminal, JSON, report) renders from it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.outcomes import Outcome, Verdict

FORMAT = 1


@dataclass(frozen=True)
class Results:
    """One run of the suite against one loader."""

    suite: str
    loader: str
    spec: str
    sandbox: bool
    verdicts: tuple[Verdict, ...]
    seconds: float
    #: False when the run was interrupted before every selected case ran.
    complete: bool = True

    def count(self, outcome: Outcome) -> int:
        return sum(1 for v in self.verdicts if v.outcome is outcome)

    @property
    def ok(self) -> bool:
        return self.complete and all(v.outcome.ok for v in self.verdicts)


def to_json(results: Results) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "suite": results.suite,
        "loader": results.loader,
        "spec": results.spec,
        "sandbox": results.sandbox,
        "complete": results.complete,
        "seconds": round(results.seconds, 6),
        "summary": {o.value: results.count(o) for o in Outcome},
        "cases": [
            {
                "id": v.case,
                "clauses": list(v.clauses),
                "outcome": v.outcome.value,
                "kind": v.kind,
                "message": v.message,
                "seconds": round(v.seconds, 6),
                "details": list(v.details),
            }
            for v in results.verdicts
        ],
    }


def from_json(data: dict[str, Any]) -> Results:
    verdicts = tuple(
        Verdict(c["id"], tuple(c["clauses"]), Outcome(c["outcome"]), c["message"],
                c["seconds"], tuple(c.get("details", ())), c.get("kind", ""))
        for c in data["cases"]
    )
    return Results(data["suite"], data["loader"], data["spec"], data["sandbox"], verdicts,
                   data["seconds"], data.get("complete", True))


def write(results: Results, path: Path) -> None:
    """Write the results as JSON, atomically (a reader never sees half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(to_json(results), indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def read(path: Path) -> Results:
    return from_json(json.loads(path.read_text(encoding="utf-8")))
