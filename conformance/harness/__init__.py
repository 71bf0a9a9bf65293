"""The harness helper that case programs require, and the lines it prints."""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass, field
from importlib import resources
from typing import Mapping

from conformance.contract import FEATURES

#: The module id cases require the helper by: one camelCase term that no runtime reserves
#: (Deno answers a bare `require('test')` with its own `node:test`).
HARNESS_ID = "conformanceHarness"


#: The text in the helper's source that the runner replaces with a fresh key for each run.
KEY_PLACEHOLDER = "conformance-run-key"


@functools.cache
def _template() -> str:
    text = resources.files(__name__).joinpath(HARNESS_ID + ".js").read_text("utf-8")
    assert text.count(KEY_PLACEHOLDER) == 1
    return text


def source(key: str = KEY_PLACEHOLDER) -> str:
    """The helper's JavaScript source, carrying `key` for its DONE check."""
    return _template() if key == KEY_PLACEHOLDER else _template().replace(KEY_PLACEHOLDER, key)


#: Keys are this many lowercase hexadecimal digits.
KEY_LENGTH = 16
_KEY = re.compile(f"[0-9a-f]{{{KEY_LENGTH}}}")


def new_key() -> str:
    """A fresh key for one run of a case."""
    return secrets.token_hex(KEY_LENGTH // 2)


@functools.cache
def _around_key() -> tuple[str, str]:
    before, after = _template().split(KEY_PLACEHOLDER)
    return before, after


def key_in(text: str) -> str | None:
    """The key `text` carries when it is the helper's source, source(key); else None."""
    before, after = _around_key()
    if (len(text) != len(before) + KEY_LENGTH + len(after) or not text.startswith(before)
            or not text.endswith(after)):
        return None
    key = text[len(before):len(before) + KEY_LENGTH]
    return key if _KEY.fullmatch(key) else None


def check(key: str, outcomes: str) -> str:
    """The DONE line's check: FNV-1a (32 bits) of 'key:' and the trail (see Transcript.trail),
    as the helper computes it: over UTF-16 code units, as JavaScript strings hold text."""
    value = 0x811C9DC5
    data = f"{key}:{outcomes}".encode("utf-16-le", "surrogatepass")
    for index in range(0, len(data), 2):
        unit = data[index] | data[index + 1] << 8
        value = ((value ^ unit) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


_ASSERTION = re.compile(r"(PASS|FAIL) (\d+)(?: (.*))?")
_DONE = re.compile(r"DONE (\d+)(?: ([0-9a-f]{8}))?")
#: A number on a PASS, FAIL or DONE line longer than this is not read as one (Python refuses
#: to convert a string of more than 4,300 digits, and no run prints a billion assertions).
MAX_DIGITS = 9
#: A byte-order mark some runtimes write at the start of their output (or of each write).
BOM = "\ufeff"
_FEATURE = re.compile(r"([\w.]+)=(present|absent)")
_SECTION = re.compile(r"(CLAUSE|GIVEN) (\S+)")
#: Protocol problems a transcript lists before it only counts the rest.
MAX_PROBLEMS = 3


@dataclass(frozen=True)
class Section:
    """A part of a program opened by CLAUSE id (it tests id) or GIVEN id (it relies on id)."""

    given: bool
    clause: str


@dataclass(frozen=True)
class Assertion:
    """One PASS or FAIL line, with the section it was printed in (None before any)."""

    number: int
    passed: bool
    message: str
    section: Section | None = None


@dataclass(frozen=True)
class Transcript:
    """What a program's output says, read line by line; lines of other shapes are ignored."""

    assertions: tuple[Assertion, ...]
    #: Feature -> present, from the FEATURES line; empty when the program printed none.
    features: Mapping[str, bool]
    #: The count on the DONE line, or None when the program never reached done().
    done: int | None
    #: The check on the DONE line (see check()), or None.
    done_check: str | None
    #: Why the program found the case not applicable (a SKIP line), or None.
    inapplicable: str | None
    #: Ways the output breaks the protocol (numbering gaps, two DONE lines, ...).
    problems: tuple[str, ...]
    #: The sections in the order they were opened; the last is where the program was last.
    sections: tuple[Section, ...] = ()
    #: How many FEATURES lines were printed: more than one means the main module ran again.
    features_lines: int = 0
    #: Feature -> the states FEATURE lines reported for it, from feature probes.
    probed: Mapping[str, tuple[bool, ...]] = field(default_factory=dict)
    #: What the DONE check covers, up to the first DONE line: P or F per assertion, [Cid] or
    #: [Gid] per section, [F] and the features' states per FEATURES line, [S] per SKIP line,
    #: [fname=p] or [fname=a] per FEATURE line.
    trail: str = ""

    @property
    def failures(self) -> tuple[Assertion, ...]:
        return tuple(a for a in self.assertions if not a.passed)

    def checks_out(self, key: str) -> bool:
        """Whether the DONE line's check matches this run's key and the lines printed."""
        return self.done_check == check(key, self.trail)

    @property
    def renumbered(self) -> bool:
        """Whether assertion numbers broke sequence (output replayed or forged): one harness
        numbers every assertion of a run, even where the main module runs twice."""
        return any(p.startswith("assertion numbered") for p in self.problems)

    @property
    def section(self) -> Section | None:
        """The section open when the output ended (where an error or a stop happened)."""
        return self.sections[-1] if self.sections else None

    @property
    def from_harness(self) -> bool:
        """Whether any line of the harness protocol was printed at all."""
        return bool(self.assertions or self.features or self.done is not None
                    or self.inapplicable is not None)


def _number(digits: str) -> int | None:
    """The number a PASS, FAIL or DONE line carries, or None when it is too long to be one."""
    return int(digits) if len(digits) <= MAX_DIGITS else None


def _states(line: str) -> str:
    """What a FEATURES line adds to the trail: [F] and p, a or ? for each feature in order, as
    the helper's start() adds it."""
    found = dict(_FEATURE.findall(line))
    return "[F" + "".join({"present": "p", "absent": "a"}.get(found.get(name, ""), "?")
                          for name in FEATURES) + "]"


def read(stdout: str) -> Transcript:
    """Read a program's stdout into a Transcript.

    Lines end at a line feed only (an optional carriage return before it is dropped): print()
    ends a line there, and a form feed or a U+2028 inside a message is part of it. A byte-order
    mark at the start of a line is not part of the protocol and is dropped.
    """
    assertions: list[Assertion] = []
    features: dict[str, bool] = {}
    done: int | None = None
    done_check: str | None = None
    inapplicable: str | None = None
    problems: list[str] = []
    sections: list[Section] = []
    features_lines = 0
    probed: dict[str, tuple[bool, ...]] = {}
    trail: list[str] = []
    for raw in stdout.split("\n"):
        line = raw.removesuffix("\r").lstrip(BOM)
        match = _SECTION.fullmatch(line)
        if match and done is None:
            sections.append(Section(match.group(1) == "GIVEN", match.group(2)))
            trail.append(f"[{match.group(1)[0]}{match.group(2)}]")
            continue
        match = _ASSERTION.fullmatch(line)
        if match:
            due = len(assertions) + 1
            number = _number(match.group(2))
            if done is not None:
                problems.append(f"assertion {due if number is None else number} printed after DONE")
            if number is None:
                problems.append(f"assertion numbered with a {len(match.group(2))}-digit number "
                                f"where {due} was due")
            elif number != due:
                problems.append(f"assertion numbered {number} where {due} was due")
            assertions.append(Assertion(number or 0, match.group(1) == "PASS",
                                        match.group(3) or "", sections[-1] if sections else None))
            if done is None:
                trail.append(match.group(1)[0])
            continue
        match = _DONE.fullmatch(line)
        if match:
            if done is not None:
                problems.append("DONE printed more than once")
                continue
            count = _number(match.group(1))
            done = -1 if count is None else count
            done_check = match.group(2)
            if count is None:
                problems.append(f"DONE counts a {len(match.group(1))}-digit number of assertions "
                                f"but {len(assertions)} were printed")
            elif count != len(assertions):
                problems.append(f"DONE counts {count} assertions but {len(assertions)} were "
                                "printed")
            continue
        if line.startswith("SKIP "):
            if done is not None:
                problems.append("SKIP printed after DONE")
                continue
            inapplicable = inapplicable or line[len("SKIP "):].strip()
            trail.append("[S]")
            continue
        if line.startswith("FEATURE "):
            name, _, state = line[len("FEATURE "):].rpartition("=")
            if done is None and state in ("present", "absent"):
                trail.append(f"[f{name}={state[0]}]")
            match = _FEATURE.fullmatch(line[len("FEATURE "):])
            if match and match.group(1) in FEATURES:
                name = match.group(1)
                probed[name] = probed.get(name, ()) + (match.group(2) == "present",)
            continue
        if line.startswith("FEATURES "):
            features_lines += 1
            if done is None:
                trail.append(_states(line))
            if features_lines > 1:
                if features_lines == 2:
                    problems.append("FEATURES printed more than once")
                continue  # the main module ran again, or its output was replayed: the judge tells
            for name, state in _FEATURE.findall(line):
                if name in FEATURES:
                    features[name] = state == "present"
    if len(problems) > MAX_PROBLEMS:
        problems[MAX_PROBLEMS:] = [f"and {len(problems) - MAX_PROBLEMS} more"]
    return Transcript(tuple(assertions), features, done, done_check, inapplicable,
                      tuple(problems), tuple(sections), features_lines, probed, "".join(trail))
