"""Which cases a run takes: -k expressions and --clause up front, and when a run stops early."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from conformance.case import Case
from conformance.clauses import catalogue, is_profile
from conformance.outcomes import FAILING, Kind, Outcome, Verdict
from conformance.text import counted

#: The words of an expression that are operators, as in pytest's -k.
OPERATORS = ("and", "or", "not")
#: A token: a parenthesis, or a word (anything up to a space or a parenthesis).
_TOKEN = re.compile(r"\s*(?:([()])|([^\s()]+))")


class SelectionError(ValueError):
    """A selection that cannot work (a malformed -k, an unknown clause); str() is one line."""


@dataclass(frozen=True)
class Word:
    """A word of an expression: true of a case id that contains it (case set aside)."""

    text: str

    def __call__(self, case_id: str) -> bool:
        return self.text.casefold() in case_id.casefold()


@dataclass(frozen=True)
class Not:
    """`not X`."""

    operand: "Expression"

    def __call__(self, case_id: str) -> bool:
        return not self.operand(case_id)


@dataclass(frozen=True)
class AllOf:
    """`X and Y ...`."""

    operands: tuple["Expression", ...]

    def __call__(self, case_id: str) -> bool:
        return all(operand(case_id) for operand in self.operands)


@dataclass(frozen=True)
class AnyOf:
    """`X or Y ...`."""

    operands: tuple["Expression", ...]

    def __call__(self, case_id: str) -> bool:
        return any(operand(case_id) for operand in self.operands)


Expression = Word | Not | AllOf | AnyOf


class _Parser:
    """A recursive-descent parser of one -k expression (pytest's grammar; never eval):
    or-expr := and-expr ('or' and-expr)*; and-expr := not-expr ('and' not-expr)*;
    not-expr := 'not' not-expr | '(' or-expr ')' | word."""

    def __init__(self, text: str):
        self.text = text
        self.tokens: list[tuple[str, int]] = []  # (token, 1-based position)
        position = 0
        while True:
            match = _TOKEN.match(text, position)
            if not match or match.end() == position:
                break
            token = match.group(1) or match.group(2)
            self.tokens.append((token, match.start(match.lastindex) + 1))
            position = match.end()
        self.index = 0

    def error(self, expected: str) -> SelectionError:
        if self.index < len(self.tokens):
            token, position = self.tokens[self.index]
            found = f"found {token!r} at position {position}"
        else:
            found = f"found the end at position {len(self.text.rstrip()) + 1}"
        return SelectionError(f"-k {self.text!r}: {expected} expected, {found}")

    def peek(self) -> str | None:
        return self.tokens[self.index][0] if self.index < len(self.tokens) else None

    def parse(self) -> Expression:
        expression = self.any()
        if self.peek() is not None:
            raise self.error("'and', 'or' or the end")
        return expression

    def any(self) -> Expression:
        operands = [self.all()]
        while self.peek() == "or":
            self.index += 1
            operands.append(self.all())
        return operands[0] if len(operands) == 1 else AnyOf(tuple(operands))

    def all(self) -> Expression:
        operands = [self.negation()]
        while self.peek() == "and":
            self.index += 1
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else AllOf(tuple(operands))

    def negation(self) -> Expression:
        token = self.peek()
        if token == "not":
            self.index += 1
            return Not(self.negation())
        if token == "(":
            self.index += 1
            inner = self.any()
            if self.peek() != ")":
                raise self.error("')'")
            self.index += 1
            return inner
        if token is None or token == ")" or token in OPERATORS:
            raise self.error("a word, 'not' or '('")
        self.index += 1
        return Word(token)


def parse(text: str) -> Expression | None:
    """The expression of one -k: words matched as substrings of the case id (case set aside),
    with and, or, not and parentheses; None for an empty one (it selects every case)."""
    parser = _Parser(text)
    return parser.parse() if parser.tokens else None


@dataclass(frozen=True)
class Selection:
    """The cases a run takes: those whose id every -k expression is true of and, given
    clauses, that cite one of them."""

    #: Each -k as given, with its expression.
    keywords: tuple[tuple[str, Expression], ...] = ()
    #: --clause ids: a case citing any of them is taken (empty: every case).
    clauses: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        """Whether it leaves any case out, as a selection; an empty one takes every case."""
        return bool(self.keywords or self.clauses)

    def takes_id(self, case_id: str) -> bool:
        """Whether the -k expressions take the case with this id (read nothing)."""
        return all(expression(case_id) for _, expression in self.keywords)

    def takes(self, case: Case) -> bool:
        """Whether the case is taken: its id, and the clauses it cites."""
        return self.takes_id(case.id) and (
            not self.clauses or not self.clauses.isdisjoint(case.clauses))

    def __str__(self) -> str:
        """The selection as options: -k 'a or b' --clause x."""
        return " ".join([f"-k {text!r}" for text, _ in self.keywords]
                        + [f"--clause {c}" for c in sorted(self.clauses)])


def selection(keywords: Sequence[str] | None = None,
              clauses: Sequence[str] | None = None, spec: str | None = None) -> Selection:
    """The Selection of the given -k expressions (all must hold) and --clause ids; a
    SelectionError, one line, for a malformed expression or a clause the catalogue of the
    run's `spec` (a profile's, or the spec's) lacks."""
    parsed = []
    for text in keywords or ():
        expression = parse(text)
        if expression is not None:
            parsed.append((text, expression))
    known = catalogue(spec)
    for clause in clauses or ():
        if clause not in known:
            closest = difflib.get_close_matches(clause, list(known), n=3, cutoff=0.6)
            listed = f"`runner.py clauses --profile {spec}`" if is_profile(spec) \
                else "`runner.py clauses`"
            hint = (f"the closest: {', '.join(closest)}" if closest else f"{listed} lists them")
            where = f"the {spec} profile's catalogue" if is_profile(spec) else "the catalogue"
            raise SelectionError(f"--clause {clause!r}: no such clause in {where}; {hint}")
    return Selection(tuple(parsed), frozenset(clauses or ()))


def listing(cases: Iterable[Case]) -> Iterable[str]:
    """One line per case, for --list: its id, title and cited clauses."""
    for case in cases:
        yield f"{case.id}  {case.title}  [{', '.join(case.clauses)}]"


#: Kinds of verdict that say the program never started: the loader could not be started,
#: exited with an error before the main module reached the harness's start(), or exited
#: having printed nothing of the harness. A program that ran and failed has none of them.
NEVER_STARTED = (Kind.LOADER_UNAVAILABLE, Kind.NOT_STARTED, Kind.NO_HARNESS_OUTPUT)
#: Applicable cases that must all end with the same never-started message before a run stops.
NEVER_STARTED_AFTER = 3


class Stop:
    """Watches a run's verdicts, in case order, and says when it is to stop early:

    - after `max_fail` cases failed, were blocked, errored or timed out (--max-fail, -x), not
      counting the failures an expectations file records as they ended (`known` gives their
      reason): a gated run stops at a new or changed failure, never at a known one;
    - when the first NEVER_STARTED_AFTER applicable cases (skips are not counted) all ended
      with a NEVER_STARTED kind and one message: the loader never started, and the rest
      would end the same way. Any other verdict among them (a pass, a failed assertion, a
      different message) turns this rule off for the run."""

    def __init__(self, max_fail: int | None = None,
                 known: Callable[[Verdict], str | None] | None = None):
        self.max_fail = max_fail
        self.known = known
        self.failed = 0
        self.applicable = 0
        self.first: Verdict | None = None  # the first applicable verdict, while the rule holds
        self.watching = True

    def after(self, verdict: Verdict) -> str | None:
        """Why the run stops after this verdict, in one line; None to go on."""
        if verdict.outcome in FAILING and not (self.known and self.known(verdict)):
            self.failed += 1
        if self.watching and verdict.outcome is not Outcome.SKIP:
            self.applicable += 1
            if self.first is None:
                self.first = verdict
            if verdict.kind not in NEVER_STARTED or verdict.message != self.first.message:
                self.watching = False
            elif self.applicable >= NEVER_STARTED_AFTER:
                return f"the loader never started: {verdict.message} (the first " \
                       f"{counted(self.applicable, 'case')} it was given all ended so)"
        if self.max_fail and self.failed >= self.max_fail:
            return f"stopped at --max-fail {self.max_fail}: " \
                   f"{counted(self.failed, 'case')} did not pass"
        return None
