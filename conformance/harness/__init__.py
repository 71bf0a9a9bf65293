"""The harness helper that case programs require, and the lines it prints."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Mapping

from conformance.adapter import FEATURES

#: The module id cases require the helper by: one camelCase term that no runtime reserves
#: (Deno answers a bare `require('test')` with its own `node:test`).
HARNESS_ID = "conformanceHarness"


@functools.cache
def source() -> str:
    """The helper's JavaScript source."""
    return resources.files(__name__).joinpath(HARNESS_ID + ".js").read_text("utf-8")


_ASSERTION = re.compile(r"(PASS|FAIL) (\d+)(?: (.*))?")
_DONE = re.compile(r"DONE (\d+)")
_FEATURE = re.compile(r"([\w.]+)=(present|absent)")
#: Protocol problems a transcript lists before it only counts the rest.
MAX_PROBLEMS = 3


@dataclass(frozen=True)
class Assertion:
    """One PASS or FAIL line."""

    number: int
    passed: bool
    message: str


@dataclass(frozen=True)
class Transcript:
    """What a program's output says, read line by line; lines of other shapes are ignored."""

    assertions: tuple[Assertion, ...]
    #: Feature -> present, from the FEATURES line; empty when the program printed none.
    features: Mapping[str, bool]
    #: The count on the DONE line, or None when the program never reached done().
    done: int | None
    #: Why the program found the case not applicable (a SKIP line), or None.
    inapplicable: str | None
    #: Ways the output breaks the protocol (numbering gaps, two DONE lines, ...).
    problems: tuple[str, ...]

    @property
    def failures(self) -> tuple[Assertion, ...]:
        return tuple(a for a in self.assertions if not a.passed)


def read(stdout: str) -> Transcript:
    """Read a program's stdout into a Transcript."""
    assertions: list[Assertion] = []
    features: dict[str, bool] = {}
    done: int | None = None
    inapplicable: str | None = None
    problems: list[str] = []
    for raw in stdout.splitlines():
        line = raw.rstrip("\r")
        match = _ASSERTION.fullmatch(line)
        if match:
            number = int(match.group(2))
            if done is not None:
                problems.append(f"assertion {number} printed after DONE")
            if number != len(assertions) + 1:
                problems.append(f"assertion numbered {number} where {len(assertions) + 1} was due")
            assertions.append(Assertion(number, match.group(1) == "PASS", match.group(3) or ""))
            continue
        match = _DONE.fullmatch(line)
        if match:
            if done is not None:
                problems.append("DONE printed more than once")
            done = int(match.group(1))
            if done != len(assertions):
                problems.append(f"DONE counts {done} assertions but {len(assertions)} were printed")
            continue
        if line.startswith("SKIP "):
            inapplicable = inapplicable or line[len("SKIP "):].strip()
            continue
        if line.startswith("FEATURES "):
            if features:
                problems.append("FEATURES printed more than once (was the harness module "
                                "instantiated more than once?)")
            for name, state in _FEATURE.findall(line):
                if name in FEATURES:
                    features[name] = state == "present"
    if len(problems) > MAX_PROBLEMS:
        problems[MAX_PROBLEMS:] = [f"and {len(problems) - MAX_PROBLEMS} more"]
    return Transcript(tuple(assertions), features, done, inapplicable, tuple(problems))
