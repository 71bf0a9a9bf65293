"""REPORT.md: the clause matrix, failures per loader and the kill matrix, from results JSON.

Runs held to a version of Modules (spec 1.0/1.1/1.1.1) make the spec's sections; runs of a
profile (spec node) make a section of their own with the profile's catalogue, never a column
or a row of the spec's tables."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from conformance import PROFILES, SPEC_VERSIONS
from conformance.clauses import Clause, catalogue, is_profile, source_commit
from conformance.outcomes import (MUST_BREACHES, PRECISION_GOAL, RECORDED, Outcome, Verdict,
                                  caught_by, precision)
from conformance.results import Results

MUTANT_PREFIX = "mutant:"
VARIANT_PREFIX = "variant:"


def clause_status(clause: Clause, verdicts: Sequence[Verdict], spec: str) -> str:
    """One cell of the clause matrix: FAIL / warning / advisory / blocked / pass / n/a, with
    counts: cases whose verdict blames the clause, of the cases citing it that ran."""
    if clause.level_in(spec) is None:
        return "—"
    citing = [v for v in verdicts if clause.id in v.clauses or clause.id in v.blame]
    ran = [v for v in citing if v.outcome is not Outcome.SKIP]
    if not citing:
        return "no case"
    if not ran:
        return "n/a"
    blamed = [v for v in ran if clause.id in v.blame]
    for word, count in (("**FAIL**", sum(v.outcome in MUST_BREACHES for v in blamed)),
                        ("warning", sum(v.outcome is Outcome.WARN for v in blamed)),
                        ("advisory", sum(v.outcome is Outcome.ADVISORY for v in blamed))):
        if count:
            return f"{word} {count}/{len(ran)}"
    blocked = sum(v.outcome is Outcome.BLOCKED for v in ran)
    if blocked:
        return f"blocked {blocked}/{len(ran)}"
    return f"pass {len(ran)}"


def _label(results: Results) -> str:
    return markdown_text(f"{results.loader} {results.spec}")


#: Characters Markdown or a table would read as syntax in text a run or a case file supplied.
_SYNTAX = re.compile(r"([\\`*_\[\]|<>])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _one_line(text: str) -> str:
    return " ".join(str(text).splitlines()) if text else ""


def markdown_text(text: str) -> str:
    """Text from a run, a case file or a loader, as one line of plain Markdown text: no
    table cell ends, no markup, no raw HTML."""
    return _SYNTAX.sub(lambda m: _HTML.get(m.group(1)) or "\\" + m.group(1), _one_line(text))


def markdown_code(text: str) -> str:
    """Text shown as code (a case id, a loader name): a code span no backtick in the text can
    end, and no '|' can end the table cell."""
    text = _one_line(text).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _summary(runs: Sequence[Results]) -> list[str]:
    lines = ["| loader | spec | sandbox | cases | pass | warn | advisory | fail | blocked | error "
             "| timeout | n/a |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in runs:
        counts = [r.count(o) for o in Outcome]  # the columns above, in the enum's order
        state = "" if r.complete else f" ({r.where_stopped()})"
        lines.append(f"| {markdown_text(r.loader + state)} | {markdown_text(r.spec)} | "
                     f"{'yes' if r.sandbox else 'no'} | "
                     f"{len(r.verdicts)} | " + " | ".join(map(str, counts)) + " |")
    return lines


def _clause_matrix(runs: Sequence[Results]) -> list[str]:
    head = "| clause | Modules/1.1.1 | level (1.0 / 1.1 / 1.1.1) | " + \
        " | ".join(_label(r) for r in runs) + " |"
    lines = [head, "| --- | --- | --- |" + " --- |" * len(runs)]
    for clause in catalogue().values():
        if not clause.loader_testable:
            continue
        levels = " / ".join(clause.level_in(v) or "—" for v in SPEC_VERSIONS)
        cells = [clause_status(clause, r.verdicts, r.spec) for r in runs]
        ref = clause.ref.get("1.1.1", "—")
        lines.append(f"| `{clause.id}` | {ref} | {levels} | " + " | ".join(cells) + " |")
    return lines


def _not_judged(profile: str | None = None) -> list[str]:
    lines = ["| clause | binds | level | why no case |", "| --- | --- | --- | --- |"]
    for clause in catalogue(profile).values():
        if clause.loader_testable:
            continue
        level = clause.level_in(profile or "1.1.1") or "/".join(sorted(set(clause.level.values())))
        lines.append(f"| `{clause.id}` | {clause.binds} | {level} | {markdown_text(clause.text)} |")
    return lines


def _failures(run: Results, reasons: Mapping[str, str]) -> list[str]:
    shown = [v for v in run.verdicts if v.outcome in RECORDED]
    if not shown:
        return ["Every applicable case passed."]
    why = "why (what the docs state)" if is_profile(run.spec) else "why (the MUST it rests on)"
    lines = [f"| case | blames | outcome | what happened | {why} |",
             "| --- | --- | --- | --- | --- |"]
    for v in shown:
        reason = markdown_text(reasons.get(v.case, "")) or "(no reason recorded)"
        blame = ", ".join(v.blame) or "—"
        lines.append(f"| {markdown_code(v.case)} | {blame} | {v.outcome.value} | "
                     f"{markdown_text(v.message)} | {reason} |")
    return lines


def _advisories(run: Results) -> list[str]:
    shown = [v for v in run.verdicts if v.outcome is Outcome.ADVISORY]
    if not shown:
        return []
    lines = ["| case | reading | what happened |", "| --- | --- | --- |"]
    for v in shown:
        lines.append(f"| {markdown_code(v.case)} | {', '.join(v.blame)} | {markdown_text(v.message)} |")
    return lines


def _kill_matrix(mutants: Sequence[Results]) -> list[str]:
    from conformance.mutants import BY_NAME

    lines = ["| mutant | breaks | what it does | caught by (cases blaming the clause) | "
             "blocked on it | blaming other clauses | precision |",
             "| --- | --- | --- | --- | ---: | ---: | ---: |"]
    for run in mutants:
        name = run.loader[len(MUTANT_PREFIX):]
        mutant = BY_NAME.get(name)
        if mutant is None:
            lines.append(f"| {markdown_code(name)} | ? | not in this suite's mutant list | | | | |")
            continue
        catching = caught_by(run.verdicts, mutant.clause)
        blocked = sum(1 for v in run.verdicts
                      if v.outcome is Outcome.BLOCKED and mutant.clause in v.blame)
        others = sum(1 for v in run.verdicts
                     if v.outcome in RECORDED and mutant.clause not in v.blame)
        share = precision(run.verdicts, mutant.clause)
        where = ", ".join(markdown_code(c) for c in catching) if catching else "**MISSED**"
        mode = " (sandbox)" if mutant.sandbox else ""
        figure = "—" if share is None else f"{share:.0%}"
        if share is not None and share < PRECISION_GOAL:
            figure = f"**{figure}**"
        lines.append(f"| {markdown_code(name)}{mode} | `{mutant.clause}` | {markdown_text(mutant.description)} | "
                     f"{where} | {blocked} | {others} | {figure} |")
    return lines


def read_benchmark(path: Path) -> dict:
    """The figures bench/benchmark.py --json wrote; ValueError unless it lists targets, each
    with target, measured and met."""
    figures = json.loads(path.read_text(encoding="utf-8"))
    targets = figures.get("targets") if isinstance(figures, dict) else None
    if not isinstance(targets, list) or not all(
            isinstance(t, dict) and isinstance(t.get("target"), str)
            and isinstance(t.get("measured"), str) and isinstance(t.get("met"), bool)
            for t in targets):
        raise ValueError("no list of targets, each with target, measured and met")
    return figures


def _speed(figures: Mapping) -> list[str]:
    """The benchmark's targets and what it measured (bench/benchmark.py --json)."""
    lines = [f"Measured by {markdown_code(figures.get('command', '?'))} on {markdown_text(figures.get('date', '?'))}: "
             f"{figures.get('machine', '?')}; {figures.get('versions', '?')}; "
             f"{figures.get('tree', '?')}. Every ratio sets two figures measured in that one "
             "run against each other; absolute figures depend on the machine.", "",
             "| target | measured | met | detail |", "| --- | --- | --- | --- |"]
    for entry in figures.get("targets", []):
        lines.append(f"| {markdown_text(entry['target'])} | {markdown_text(entry['measured'])} | "
                     f"{'yes' if entry['met'] else '**no**'} | {markdown_text(entry.get('note', ''))} |")
    return lines


def render(runs: Iterable[Results], command: str = "",
           reasons: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
           benchmark: Mapping | None = None) -> str:
    """The whole REPORT.md for these runs (mutant runs become the kill matrix); `reasons`
    maps (loader, spec) to case id -> why it fails, from expectation files; `benchmark`, the
    figures bench/benchmark.py --json wrote, adds a section on speed."""
    runs = list(runs)
    reasons = reasons or {}
    profiles = {p: [r for r in runs if r.spec == p] for p in PROFILES}
    suites = sorted({r.suite for r in runs})
    runs = [r for r in runs if not is_profile(r.spec)]
    loaders = [r for r in runs if not r.loader.startswith((MUTANT_PREFIX, VARIANT_PREFIX))]
    mutants = [r for r in runs if r.loader.startswith(MUTANT_PREFIX)]
    variants = [r for r in runs if r.loader.startswith(VARIANT_PREFIX)]
    specs = sorted({r.spec for r in loaders})
    out = ["# Conformance report", "",
           f"commonjs-conformance {', '.join(suites)}; CommonJS Modules "
           f"{', '.join(specs) or '—'}"
           + "".join(f"; the {p} profile (its own section)" for p, r in profiles.items() if r)
           + ". Generated from results JSON"
           + (f" by {markdown_code(command)}." if command else "."), "",
           "Verdicts: **pass** (every case citing the clause passed), **FAIL** (a case "
           "failed, errored or timed out in the part that tests the clause: a MUST of the spec's "
           "text), **warning** (the same for a SHOULD), **advisory** (the project's reading of "
           "wording the spec leaves open was not met: never a failure), **blocked** (a case "
           "citing it could not get to its test, because a clause it relies on broke first), "
           "**n/a** (every case citing it was not applicable: another mode, or an optional "
           "feature the loader lacks), — (the clause is not in that spec version). Counts are "
           "cases that ran.", ""]
    if loaders:
        out += ["## Summary", ""] + _summary(loaders) + [""]
        out += ["## Clause matrix", "",
                "Every clause a running program can check against a loader.", ""]
        out += _clause_matrix(loaders) + [""]
        for run in loaders:
            out += _loader_section(run, reasons, "##")
    out += ["## Clauses no case judges", "",
            "These bind module authors or this suite, or only permit: breaking them is no "
            "loader failure, so the suite keeps to them instead (see the suite lint).", ""]
    out += _not_judged() + [""]
    if mutants:
        out += _kill_section(mutants, "##")
    if variants:
        out += ["## Conforming variants", "",
                "Copies of the reference loader that do what the spec allows and the reference "
                "does not (conformance/mutants.py, CONFORMING): each must pass or be not "
                "applicable on every case, or the suite fails a loader for something the spec "
                "allows.", ""]
        out += _variants(variants) + [""]
    for profile, profile_runs in profiles.items():
        if profile_runs:
            out += _profile_section(profile, profile_runs, reasons)
    if benchmark:
        out += ["## Speed", ""] + _speed(benchmark) + [""]
    return "\n".join(out)


def _loader_section(run: Results, reasons: Mapping[tuple[str, str], Mapping[str, str]],
                    level: str) -> list[str]:
    """A loader's failures and warnings (with the reasons of its expectation file), then its
    advisories, under a heading of `level` ('##', '###')."""
    label = markdown_text(run.loader) if is_profile(run.spec) else _label(run)
    out = [f"{level} {label}: failures and warnings", ""]
    if run.features and not is_profile(run.spec):  # a profile has no optional features
        out += ["Optional features: " + ", ".join(
            f"{name} {state}" for name, state in run.features.items()) + ".", ""]
    out += _failures(run, reasons.get((run.loader, run.spec), {})) + [""]
    advisories = _advisories(run)
    if advisories:
        out += [f"Advisories on {label}: the project's readings, not failures.",
                ""] + advisories + [""]
    return out


def _kill_section(mutants: Sequence[Results], level: str) -> list[str]:
    """The kill matrix of these mutant runs, with how many are caught, under `level`."""
    from conformance.mutants import BY_NAME

    matrix = _kill_matrix(mutants)
    known = [(run, BY_NAME.get(run.loader[len(MUTANT_PREFIX):])) for run in mutants]
    caught_count = sum(1 for run, mutant in known
                       if mutant is not None and caught_by(run.verdicts, mutant.clause))
    low = sum(1 for line in matrix[2:] if line.endswith("** |"))
    return [f"{level} Kill matrix", "",
            f"Deliberately broken copies of the reference loader (conformance/mutants.py), "
            f"each breaking one clause; {caught_count} of {len(mutants)} are caught by a "
            "case whose verdict blames the clause they break (failed, errored, timed out or "
            "warned in the part that tests it). Precision is the share of a mutant's "
            "recorded verdicts (failed, blocked, ...) that blame that clause, directly or "
            "as the precondition that blocked the case; the goal is at least "
            f"{PRECISION_GOAL:.0%} for every mutant, and {low} fall short (in bold).", ""] + \
        matrix + [""]


def _profile_matrix(profile: str, runs: Sequence[Results]) -> list[str]:
    """The clause matrix of a profile: each clause of its catalogue a running program can
    check, with where the docs state it, its level, and one column per loader."""
    lines = ["| clause | where the docs state it | level | " +
             " | ".join(markdown_text(r.loader) for r in runs) + " |",
             "| --- | --- | --- |" + " --- |" * len(runs)]
    for clause in catalogue(profile).values():
        if not clause.loader_testable:
            continue
        level = clause.level_in(profile) or "—"
        if clause.reading:
            level += " (reading)"
        cells = [clause_status(clause, r.verdicts, profile) for r in runs]
        lines.append(f"| `{clause.id}` | [{markdown_text(clause.ref.get(profile, '—'))}]"
                     f"({clause.link(profile)}) | {level} | " + " | ".join(cells) + " |")
    return lines


def _profile_section(profile: str, runs: Sequence[Results],
                     reasons: Mapping[tuple[str, str], Mapping[str, str]]) -> list[str]:
    """The section of one profile (spec `profile`): its loaders side by side, its clause
    matrix, each loader's failures, and its mutants and variants, apart from Modules'."""
    loaders = [r for r in runs if not r.loader.startswith((MUTANT_PREFIX, VARIANT_PREFIX))]
    mutants = [r for r in runs if r.loader.startswith(MUTANT_PREFIX)]
    variants = [r for r in runs if r.loader.startswith(VARIANT_PREFIX)]
    commit = source_commit(profile)
    docs = "Node.js's documentation of its CommonJS loader (doc/api/modules.md" + \
        (f" at commit `{commit}`)" if commit else ")")
    out = [f"## {profile.capitalize()} profile", "",
           f"The `{profile}` profile (`--profile {profile}`, docs/node-profile.md) is not "
           "CommonJS Modules/1.1.1: it holds a loader to what " + docs + " states, judged by "
           f"conformance/data/{profile}-clauses.yaml on the cases under cases/{profile}/. "
           "Its verdicts are never mixed into the sections above. **FAIL**: a case broke "
           "a statement the docs make without hedging (STATES); **warning**: one they mark "
           "deprecated (DEPRECATED); **advisory**: the project's reading of hedged wording "
           "was not met. Each deviation found is written up, with a command that shows it, in "
           "docs/node-deviations.md.", ""]
    if loaders:
        out += [f"### {profile.capitalize()} profile: summary", ""] + _summary(loaders) + [""]
        out += [f"### {profile.capitalize()} profile: clause matrix", "",
                "Every clause of the profile's catalogue a running program can check.", ""]
        out += _profile_matrix(profile, loaders) + [""]
        for run in loaders:
            out += _loader_section(run, reasons, "###")
    if any(not c.loader_testable for c in catalogue(profile).values()):
        out += [f"### {profile.capitalize()} profile: clauses no case judges", ""]
        out += _not_judged(profile) + [""]
    if mutants:
        out += _kill_section(mutants, f"### {profile.capitalize()} profile:")
    if variants:
        out += [f"### {profile.capitalize()} profile: conforming variants", "",
                "Copies of the profile's reference loader that do what the docs leave open "
                "(docs/node-profile.md, variant questions): each must pass or be not "
                "applicable on every case.", ""]
        out += _variants(variants) + [""]
    return out


def _variants(variants: Sequence[Results]) -> list[str]:
    from conformance.mutants import VARIANTS

    lines = ["| variant | what it does | pass | n/a | wrong verdicts |", "| --- | --- | ---: | ---: | --- |"]
    for run in variants:
        name = run.loader[len(VARIANT_PREFIX):]
        variant = VARIANTS.get(name)
        what = markdown_text(variant.description) if variant else "not in this suite's variant list"
        wrong = [f"{markdown_code(v.case)} ({v.outcome.value})" for v in run.verdicts if not v.outcome.ok]
        lines.append(f"| {markdown_code(name)} | {what} | {run.count(Outcome.PASS)} | "
                     f"{run.count(Outcome.SKIP)} | {', '.join(wrong) or 'none'} |")
    return lines


def case_counts(cases: Iterable) -> Counter:
    """Clause id -> number of cases citing it."""
    counts: Counter = Counter()
    for case in cases:
        counts.update(case.clauses)
    return counts
