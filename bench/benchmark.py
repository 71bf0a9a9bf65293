#!/usr/bin/env python3
"""The suite's own cost, as ratios measured in one run, against the project's speed targets.

    python bench/benchmark.py           # the full run: about 2.5 minutes on 2 cores
    python bench/benchmark.py --quick   # the short run the smoke test uses: about 15 s

Machines are noisy, so every figure is set against another one measured in the same run,
never against a constant from another run. It prints, side by side:

1. the reference loader (run_cases -j 1 over every case, one core) against the QuickJS floor:
   a bare quickjs.Context() per case evaluating the same module sources, with no harness, no
   loader.js and no runner; per-case microseconds, the ratio and cases per second; then where
   a reference case's time goes (instrumented passes: the runner's steps, and execute()'s
   steps run in this process for the same cases);
2. a command loader (node, `conformance.registry.resolve('node')`): the suite at -j 1 against
   as many bare starts of the same command and environment on a one-line program, and -j 2
   against -j 1 (with bare starts 2 at a time, to show what this machine allows); the full run
   adds where a node start's time goes. Skipped, with a note, when node is not installed;
3. scaling: generated suites of 1,000, 5,000 and 10,000 cases (variants of the real cases with
   unique ids) run by the real command line on the reference loader (-j 1), each in a fresh
   process: time per case (loading included) and the runner process's peak memory (VmHWM),
   with the 10k/1k ratios (--quick: 250 and 1,000, with the memory ratio projected to 10k/1k);
4. as a user runs it: `runner.py --cases DIR` on the suite copied eight times less on one copy,
   per case, at -j 1 and at the default -j, the case cache cold and warm, against a bare
   QuickJS context evaluating one expression.

Every target is printed with PASS or MISS; the benchmark prints figures, it does not fail
(exit status 0). Options: --quick, --repeats R, --cases N (the first N cases in id order,
sections 1 and 2), --sizes 1000,5000,10000, --no-node, --no-scaling, --no-user.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import quickjs
import yaml

import conformance
import conformance.reference.engine as engine
from conformance.reference import loader_source
import conformance.reference.bytecode as reference_bytecode
import conformance.reference.worker as worker
import conformance.run as run
from conformance import DEFAULT_SPEC
from conformance.caseload import default_root, discover, load_all
from conformance.command import run_command as suite_run_command, write_case_tree
from conformance.harness import new_key, source as harness_source
from conformance.registry import LoaderError, resolve
from conformance.outcomes import Outcome

HERE = Path(__file__).resolve()
#: How the reference loader wraps a module's source before compiling it (loader.js,
#: compileModule); the floor compiles the same text.
WRAP = "(function (require, exports, module) {%s\n})"
TRIVIAL = "console.log('DONE');\n"

#: The speed targets: the suite costs little beyond the loader it runs.
FLOOR_RATIO = 4.0
#: The command line's per-case time (start-up excluded) against the QuickJS floor.
COMMAND_LINE_RATIO = 3.0
CASES_PER_SECOND = 2500
COMMAND_RATIO = 1.15
PARALLEL_SPEEDUP = 1.7
#: "Roughly constant" per-case time and "flat" memory from the smallest to the largest suite.
SCALING_TIME = 1.15
SCALING_MEMORY = 1.10


# ------------------------------------------------------------------------------------ output

def say(text: str = "") -> None:
    print(text, flush=True)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


#: What --json writes: the run's setting and every target with what was measured.
RECORD: dict = {"targets": []}


def target(what: str, measured: str, ok: bool, note: str = "") -> str:
    """Record a speed target with its measured figure; the text printed after it."""
    RECORD["targets"].append({"target": what, "measured": measured, "met": ok, "note": note})
    return f"{what}: {measured}  {verdict(ok)}" + (f" ({note})" if note else "")


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{os.cpu_count()} cores ({usable} usable by this process), {model or 'CPU ?'}, "
            f"{platform.system()} {platform.release()}, load average {load} at start")


def versions(node: str | None) -> str:
    from importlib import metadata
    parts = [f"python {platform.python_version()}",
             f"quickjs {metadata.version('quickjs')}",
             f"commonjs-conformance {conformance.__version__}"]
    if node:
        out = subprocess.run([node, "--version"], capture_output=True, text=True)
        parts.append(f"node {out.stdout.strip()}")
    return ", ".join(parts)


def tree_state() -> str:
    """The commit measured and what differs from it: the product may change between runs."""
    repo = HERE.parent.parent

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                                  text=True).stdout.rstrip("\n")
        except OSError:  # no git here
            return ""

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return f"{repo} (git state unknown)"
    changed = [line[3:] for line in git("status", "--porcelain").splitlines()
               if not line[3:].startswith("bench/") and line[3:] != "REPORT.md"]
    return f"commit {head}" + (f" + uncommitted changes in {', '.join(changed)}"
                               if changed else "")


def stats(samples: list[float]) -> tuple[float, float]:
    """(best, median) of repeated timings."""
    return min(samples), statistics.median(samples)


# --------------------------------------------------------------------- 1. reference vs floor

def reference_plan(cases):
    """(case, loader, spec) so that every case runs: sandbox-only cases on reference-sandbox,
    cases of older versions only held to the newest version they apply to."""
    plain, sandbox = resolve("reference"), resolve("reference-sandbox")
    plan = []
    for case in cases:
        spec = DEFAULT_SPEC if DEFAULT_SPEC in case.versions else case.versions[-1]
        plan.append((case, sandbox if case.sandbox is True else plain, spec))
    return plan


def reference_groups(plan):
    """The plan as (cases, loader, spec) runs, in order, as the command line would run them."""
    groups: dict = {}
    for case, loader, spec in plan:
        groups.setdefault((loader.name, spec), ([], loader, spec))[0].append(case)
    return list(groups.values())


def reference_pass(groups, jobs: int = 1) -> tuple[float, list]:
    """Seconds for conformance.run.run_cases -j JOBS over the groups, as the command line runs
    them (-j 1: the reference loader's pipelined run_all), and the verdicts."""
    started = time.perf_counter()
    verdicts = [v for cases, loader, spec in groups
                for v in run.run_cases(cases, loader, spec, jobs=jobs)]
    return time.perf_counter() - started, verdicts


def floor_pass(wrapped: list[list[str]]) -> float:
    """Seconds for a bare quickjs.Context() per case evaluating that case's module sources
    (wrapped as loader.js wraps them, so compiled and not run), then freeing the context."""
    started = time.perf_counter()
    for sources in wrapped:
        context = quickjs.Context()
        for text in sources:
            try:
                context.eval(text)
            except quickjs.JSException:  # cases that test a syntax error
                pass
        del context
    return time.perf_counter() - started


def context_pass(count: int) -> float:
    """Seconds for `count` bare quickjs.Context() created and freed."""
    started = time.perf_counter()
    for _ in range(count):
        context = quickjs.Context()
        del context
    return time.perf_counter() - started


def compile_cost(text: str, rounds: int) -> float:
    """Microseconds to compile `text` (not run it) in a fresh context, beyond the context."""
    with_text, bare = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        context = quickjs.Context()
        context.eval(text)
        del context
        with_text.append(time.perf_counter() - started)
        started = time.perf_counter()
        context = quickjs.Context()
        del context
        bare.append(time.perf_counter() - started)
    return (statistics.median(with_text) - statistics.median(bare)) * 1e6


def count_outcomes(verdicts) -> str:
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.outcome.value] = counts.get(v.outcome.value, 0) + 1
    return ", ".join(f"{k} {c}" for k, c in sorted(counts.items()))


def _threads_of(pid: int) -> list[int]:
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return [pid]


def _cpu_ns(pid: int) -> int:
    """CPU time of every thread of process `pid`, in nanoseconds (/proc schedstat)."""
    total = 0
    for tid in _threads_of(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
    return total


@contextlib.contextmanager
def one_core():
    """This process and its children (the QuickJS workers), every thread of each, confined to
    one CPU for the block; yields False where affinity cannot be set."""
    if not hasattr(os, "sched_setaffinity"):
        yield False
        return
    allowed = os.sched_getaffinity(0)
    cpu = {max(allowed)}

    def pin(cpus) -> None:
        for pid in [os.getpid(), *map(int, _children())]:
            for tid in _threads_of(pid):
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(tid, cpus)
    pin(cpu)
    try:
        yield True
    finally:
        pin(allowed)


def section_reference(cases, repeats: int, breakdown: bool) -> float:
    """Section 1; returns the floor's median microseconds per case."""
    plan = reference_plan(cases)
    groups = reference_groups(plan)
    n = len(plan)
    wrapped = [[WRAP % text for text in case.modules.values()] for case in cases]
    unavailable = reference_bytecode.unavailable()
    say(f"1. Reference loader against the QuickJS floor: {n} cases, sequential (-j 1), "
        f"{repeats} repeats interleaved")
    say("   reference = conformance.run.run_cases -j 1 over "
        + ", ".join(f"{len(c)} on {l.name} held to {s}" for c, l, s in groups))
    say("               (the runner and its QuickJS worker process, pipelined: they may use "
        "two cores; 'on one core' pins both to one CPU)")
    say("   floor     = per case a bare quickjs.Context() evaluating that case's modules, "
        "wrapped as loader.js wraps them")
    say("               (compiled, not run: running them takes a loader); no harness, no "
        "loader.js, no runner; in this process")
    say("   bytecode  = " + ("loader.js and the harness helper run from bytecode compiled once "
                             "per worker" if not unavailable
                             else f"unavailable ({unavailable}): everything compiled per case"))
    gc.collect()
    _, verdicts = reference_pass(groups)  # warm-up: imports, caches, worker processes
    floor_pass(wrapped)
    ref_times, pinned_times, two_times, floor_times, context_times = [], [], [], [], []
    runner_cpu, worker_cpu = [], []
    for _ in range(repeats):
        seconds, verdicts = reference_pass(groups)
        ref_times.append(seconds)
        two_times.append(reference_pass(groups, jobs=2)[0])
        with one_core() as pinned:
            workers = [int(p) for p in _children()]
            before = (time.process_time(), sum(_cpu_ns(p) for p in workers))
            seconds, _ = reference_pass(groups)
            pinned_times.append(seconds)
            runner_cpu.append(time.process_time() - before[0])
            worker_cpu.append((sum(_cpu_ns(p) for p in workers) - before[1]) / 1e9)
            floor_times.append(floor_pass(wrapped))
            context_times.append(context_pass(n))
    passed = sum(v.outcome is Outcome.PASS for v in verdicts)
    say(f"   outcomes of the reference run: {count_outcomes(verdicts)}"
        + ("" if passed == n else "   (NOT every case passed)"))
    (rb, rm), (pb, pm), (jb, jm), (fb, fm), (cb, cm) = (
        stats(ref_times), stats(pinned_times), stats(two_times), stats(floor_times),
        stats(context_times))
    us = lambda s: s / n * 1e6  # noqa: E731
    say(f"   {'':48s}{'best':>10s}{'median':>10s}")
    say(f"   {'reference -j 1, us per case':48s}{us(rb):10.1f}{us(rm):10.1f}")
    say(f"   {'reference -j 1 on one core, us per case':48s}{us(pb):10.1f}{us(pm):10.1f}")
    say(f"   {'floor, us per case (on that core)':48s}{us(fb):10.1f}{us(fm):10.1f}")
    say(f"   {'  of which Context() created and freed':48s}{us(cb):10.1f}{us(cm):10.1f}")
    say(f"   {'ratio reference -j 1 / floor':48s}{rb / fb:9.2f}x{rm / fm:9.2f}x")
    say(f"   {'ratio reference on one core / floor':48s}{pb / fb:9.2f}x{pm / fm:9.2f}x")
    say(f"   {'reference -j 1, cases per second':48s}{n / rb:10.0f}{n / rm:10.0f}")
    say(f"   {'reference on one core, cases per second':48s}{n / pb:10.0f}{n / pm:10.0f}")
    say(f"   {'reference -j 2, cases per second':48s}{n / jb:10.0f}{n / jm:10.0f}")
    say(f"   {'floor, cases per second':48s}{n / fb:10.0f}{n / fm:10.0f}")
    if pinned and statistics.median(worker_cpu) > 0:
        say(f"   CPU per case on one core (median): runner {us(statistics.median(runner_cpu)):.0f}"
            f" us, QuickJS worker {us(statistics.median(worker_cpu)):.0f} us")
    elif pinned:
        say(f"   CPU per case on one core (median): runner {us(statistics.median(runner_cpu)):.0f}"
            " us, QuickJS worker unknown (no /proc/PID/task/TID/schedstat here)")
    else:
        say("   (CPU affinity cannot be set here: 'on one core' ran unpinned)")
    say("   target: " + target(
        f"reference at most {FLOOR_RATIO:g}x the floor per case (-j 1, median)",
        f"{rm / fm:.2f}x", rm / fm <= FLOOR_RATIO,
        f"{us(rm):.0f} us against {us(fm):.0f} us; pinned to one core {pm / fm:.2f}x"))
    say("   target: " + target(
        f"at least {CASES_PER_SECOND:,} reference cases per second on one core (median)",
        f"{n / pm:,.0f}/s", n / pm >= CASES_PER_SECOND,
        f"-j 1 unpinned {n / rm:,.0f}/s, -j 2 {n / jm:,.0f}/s; here {CASES_PER_SECOND:,}/s is "
        f"{1e6 / CASES_PER_SECOND / us(fm):.2f}x the floor, which runs {n / fm:,.0f}/s"))
    if breakdown:
        section_breakdown(plan, us(fm), us(cm))
    say()
    return us(fm)


# -------------------------------------------------------------- 1b. where a reference case goes

class _Clock:
    """Accumulated perf_counter seconds by step."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def add(self, step: str, seconds: float) -> None:
        self.spent[step] = self.spent.get(step, 0.0) + seconds

    def wrap(self, step: str, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(step, time.perf_counter() - started)
        return timed


@contextlib.contextmanager
def engine_instrumented(clock: _Clock):
    """Time each step of conformance.reference.engine.execute (what runs QuickJS for one program,
    in the worker) by swapping it, and the quickjs, bytecode and json it looks up, for timing
    wrappers."""
    kept: list = []  # the running program's context objects: freed, and timed, after execute

    class Control:
        def __init__(self, obj):
            self.obj = obj

        def __call__(self, *args):
            started = time.perf_counter()
            try:
                return self.obj(*args)
            finally:
                clock.add("control('run')" if args[:1] == ("run",) else "control('report')",
                          time.perf_counter() - started)

    class Context:
        def __init__(self):
            started = time.perf_counter()
            self.context = quickjs.Context()
            clock.add("Context()", time.perf_counter() - started)
            kept.append(self)

        def _timed(self, step, name, *args):
            started = time.perf_counter()
            try:
                return getattr(self.context, name)(*args)
            finally:
                clock.add(step, time.perf_counter() - started)

        def set_time_limit(self, *a):
            return self._timed("limits", "set_time_limit", *a)

        def set_memory_limit(self, *a):
            return self._timed("limits", "set_memory_limit", *a)

        def set_max_stack_size(self, *a):
            return self._timed("limits", "set_max_stack_size", *a)

        def set(self, *a):
            return self._timed("ctx.set(input)", "set", *a)

        def get(self, *a):
            control = Control(self._timed("ctx.get(control)", "get", *a))
            kept.append(control)
            return control

        def eval(self, *a):
            return self._timed("eval(loader.js)", "eval", *a)

        def execute_pending_job(self):
            return self._timed("pending jobs", "execute_pending_job")

    scripts = {"n": 0}

    def run_script(context, data):
        step = "bytecode: loader.js" if scripts["n"] == 0 else "bytecode: harness factory"
        scripts["n"] += 1
        started = time.perf_counter()
        try:
            return reference_bytecode.run_script(context.context, data)
        finally:
            clock.add(step, time.perf_counter() - started)

    real_execute = engine.execute

    def execute(*args, **kwargs):
        scripts["n"] = 0
        started = time.perf_counter()
        result = real_execute(*args, **kwargs)
        clock.add("execute", time.perf_counter() - started)
        started = time.perf_counter()
        kept.clear()  # the last references: QuickJS frees the context and runtime here
        clock.add("teardown", time.perf_counter() - started)
        return result

    saved = {name: getattr(engine, name)
             for name in ("quickjs", "json", "bytecode", "execute")}
    try:
        engine.execute = execute  # as worker.run calls it
        engine.quickjs = types.SimpleNamespace(Context=Context, JSException=quickjs.JSException,
                                               Object=Control)
        engine.json = types.SimpleNamespace(loads=clock.wrap("json.loads(report)", json.loads))
        engine.bytecode = types.SimpleNamespace(run_script=run_script)
        yield
    finally:
        for name, value in saved.items():
            setattr(engine, name, value)


def engine_pass(plan, clock: _Clock) -> int:
    """execute() for every case in this process, with what the worker gives it (the job the
    reference loader builds, the precompiled loader and helper), instrumented; how many of
    the cases then judged pass."""
    from conformance.judge import judge
    from conformance.reference.compiled import compile_loader
    jobs = []
    for case, loader, spec in plan:
        key = new_key()
        jobs.append((case, spec, key, loader._job(run.prepare(case, run.DEFAULT_TIMEOUT, key))))
    compiled = {source: compile_loader(source) for source in {job.js_source for *_, job in jobs}}

    def one(job):
        return worker.run(job.js_source, compiled[job.js_source], job.input, job.timeout,
                          job.memory_limit, job.stack_limit, job.output_limit, job.harness_key)

    with engine_instrumented(clock):
        executions = engine.on_big_stack(lambda: [one(job) for *_, job in jobs])
    return sum(judge(case, execution, spec, key).outcome is Outcome.PASS
               for (case, spec, key, _), execution in zip(jobs, executions))


def _median_pass(passes: list[dict], key: str) -> dict:
    """The instrumented pass whose `key` total is the median one."""
    return sorted(passes, key=lambda spent: spent.get(key, 0.0))[len(passes) // 2]


def row(what: str, value: float | None, total: float | None = None) -> None:
    """One line of the breakdown: what, us per case, share of the total."""
    figure = "" if value is None else f"{value:8.1f}"
    share = f" {100 * value / total:5.1f}%" if total and value is not None else ""
    say(f"     {what:64s}{figure}{share}")


def section_breakdown(plan, floor_us: float, context_us: float) -> None:
    n = len(plan)
    passes, engine_ok = [], n
    try:
        for _ in range(3):
            clock = _Clock()
            engine_ok = engine_pass(plan, clock)
            passes.append(clock.spent)
    except Exception as exc:  # the loader's internals moved: say so, keep the rest
        say(f"   (the in-process execute() breakdown is unavailable: {type(exc).__name__}: "
            f"{exc})")
        return
    e = {k: v / n * 1e6 for k, v in _median_pass(passes, "execute").items()}
    E = lambda step: e.get(step, 0.0)  # noqa: E731
    total = E("execute") + E("teardown")
    say("   Where the QuickJS worker's time goes: execute() run in this process for the same "
        "cases, instrumented (median of 3):")
    say(f"   {total:.1f} us per case ({engine_ok} of {n} judged pass)")
    steps = ("Context()", "limits", "ctx.set(input)", "bytecode: loader.js",
             "bytecode: harness factory", "eval(loader.js)", "ctx.get(control)",
             "control('run')", "pending jobs", "json.loads(report)", "control('report')")
    rows = [
        ("Context(): a new QuickJS runtime and context", E("Context()")),
        ("time, memory and stack limits", E("limits")),
        ("ctx.set of the input JSON (all sources, harness included)", E("ctx.set(input)")),
        ("loader.js from bytecode: read, run its top level", E("bytecode: loader.js")),
        ("the harness helper's factory from bytecode", E("bytecode: harness factory")),
        ("eval(loader.js) from source (only without bytecode)", E("eval(loader.js)")),
        ("ctx.get of the control function", E("ctx.get(control)")),
        ("control('run'): the program (see the estimates below)", E("control('run')")),
        ("pending promise jobs", E("pending jobs")),
        ("json.loads of the report", E("json.loads(report)")),
        ("control('report') (only after an error)", E("control('report')")),
        ("other Python in execute()", E("execute") - sum(E(s) for s in steps)),
        ("teardown: the context and runtime freed", E("teardown")),
    ]
    for what, value in rows:
        row(what, value, total)
    rounds = 200
    loader_js = compile_cost("(function () {%s\n})" % loader_source(), rounds)
    harness_js = compile_cost(WRAP % harness_source(new_key()), rounds)
    modules_js = max(0.0, floor_us - context_us)
    running = E("control('run')") - modules_js
    say("   Compile-only estimates (a fresh context each, Context() subtracted, this run):")
    row(f"compiling loader.js from source ({len(loader_source()):,} chars; "
        "saved by bytecode)", loader_js)
    row(f"compiling the harness from source ({len(harness_source()):,} chars; saved by "
        "bytecode)", harness_js)
    row("compiling the case's modules (floor - bare Context())", modules_js)
    row("so control('run') beyond compiling: running the case, require", running)


# ------------------------------------------------------------------- 2. a command loader: node

def bare_starts(argv: list[str], env: dict, count: int, jobs: int = 1) -> float:
    """Seconds for `count` starts of argv, `jobs` at a time: subprocess, output captured."""
    def start(_=None):
        subprocess.run(argv, env=env, cwd=Path.cwd(), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = time.perf_counter()
    if jobs <= 1:
        for _ in range(count):
            start()
    else:
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(start, range(count)))
    return time.perf_counter() - started


def suite_pass(cases, loader, spec, timeout, jobs) -> tuple[float, list]:
    started = time.perf_counter()
    verdicts = list(run.run_cases(cases, loader, spec, timeout, jobs=jobs))
    return time.perf_counter() - started, verdicts


def section_node(cases, repeats: int, diagnose: bool) -> None:
    try:
        node = resolve("node")
    except LoaderError as exc:
        say(f"2. Command loader (node): skipped: {exc}")
        say()
        return
    spec = node.declaration.spec or DEFAULT_SPEC
    timeout = node.declaration.timeout or run.DEFAULT_TIMEOUT
    starts = sum(run.not_applicable(case, node, spec) is None for case in cases)
    say(f"2. Command loader: node ({node.template!r}), {len(cases)} cases of which {starts} "
        f"start node; {repeats} repeats interleaved")
    with tempfile.TemporaryDirectory(prefix="cjs-bench-") as tmp:
        Path(tmp, "trivial.js").write_text(TRIVIAL)
        argv, env = node.command_for(Path(tmp), "trivial")  # the same command, env and cwd
        say(f"   bare start = {shlex.join(argv)} (a one-line program; the loader's env, "
            "subprocess.run, output captured)")
        suite_pass(cases[:4], node, spec, timeout, 1)  # warm-up: disk cache, node's caches
        bare_starts(argv, env, 3)
        one, two, bare, bare_two = [], [], [], []
        for _ in range(repeats):
            seconds, verdicts = suite_pass(cases, node, spec, timeout, 1)
            one.append(seconds)
            bare.append(bare_starts(argv, env, starts))
            two.append(suite_pass(cases, node, spec, timeout, 2)[0])
            bare_two.append(bare_starts(argv, env, starts, jobs=2))
        say(f"   outcomes: {count_outcomes(verdicts)} (node's known failures and missing "
            "features: expectations/)")
        (ob, om), (tb, tm), (bb, bm), (b2b, b2m) = (stats(one), stats(two), stats(bare),
                                                    stats(bare_two))
        ms = lambda s: s / max(starts, 1) * 1e3  # noqa: E731
        say(f"   {'':44s}{'best':>10s}{'median':>10s}")
        say(f"   {'suite -j 1, s':44s}{ob:10.2f}{om:10.2f}")
        say(f"   {'suite -j 2, s':44s}{tb:10.2f}{tm:10.2f}")
        say(f"   {f'{starts} bare starts, s':44s}{bb:10.2f}{bm:10.2f}")
        say(f"   {f'{starts} bare starts, 2 at a time, s':44s}{b2b:10.2f}{b2m:10.2f}")
        say(f"   {'suite -j 1, ms per node start':44s}{ms(ob):10.1f}{ms(om):10.1f}")
        say(f"   {'bare start, ms':44s}{ms(bb):10.1f}{ms(bm):10.1f}")
        say(f"   {'ratio suite -j 1 / bare starts':44s}{ob / bb:9.2f}x{om / bm:9.2f}x")
        say(f"   {'speed-up -j 2 over -j 1':44s}{ob / tb:9.2f}x{om / tm:9.2f}x")
        say(f"   {'  bare starts: 2 at a time over 1 at a time':44s}{bb / b2b:9.2f}x"
            f"{bm / b2m:9.2f}x")
        say("   target: " + target(
            f"node -j 1 within {COMMAND_RATIO:g}x of as many bare starts (median)",
            f"{om / bm:.2f}x", om / bm <= COMMAND_RATIO,
            f"{ms(om):.1f} ms against {ms(bm):.1f} ms per start, {starts} starts"))
        say("   target: " + target(
            f"node -j 2 at least {PARALLEL_SPEEDUP:g}x faster than -j 1 (median)",
            f"{om / tm:.2f}x", om / tm >= PARALLEL_SPEEDUP,
            f"{os.cpu_count()} cores; bare starts two at a time gave {bm / b2m:.2f}x"))
        if diagnose:
            diagnose_node(cases, node, spec, timeout, argv, env, verdicts)
    say()


def diagnose_node(cases, node, spec, timeout, trivial_argv, trivial_env, verdicts) -> None:
    """Where the suite's time per node start goes, beyond node itself."""
    started_cases = [c for c in cases if run.not_applicable(c, node, spec) is None]
    n = len(started_cases)
    with tempfile.TemporaryDirectory(prefix="cjs-bench-") as tmp:
        trees = []
        started = time.perf_counter()
        for index, case in enumerate(started_cases):
            base = Path(tmp, str(index))
            base.mkdir()
            trees.append((case, write_case_tree(base, run.prepare(case, timeout).modules)))
        write_ms = (time.perf_counter() - started) / n * 1e3
        direct, through = [], []
        for case, root in trees:
            argv, env = node.command_for(root, case.main)
            t0 = time.perf_counter()
            subprocess.run(argv, env=env, cwd=Path.cwd(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            direct.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            suite_run_command(argv, Path.cwd(), env, timeout)
            through.append(time.perf_counter() - t0)
        trivial = []
        for _ in range(min(n, 30)):
            t0 = time.perf_counter()
            suite_run_command(trivial_argv, Path.cwd(), trivial_env, timeout)
            trivial.append(time.perf_counter() - t0)
    seconds = [v.seconds for v in verdicts if v.seconds > 0]
    mean = lambda xs: sum(xs) / len(xs) * 1e3  # noqa: E731
    say("   Where a node start's time goes (one pass, ms per start, same trees as the suite's):")
    say(f"     node run directly on the case's tree (subprocess.run)       {mean(direct):8.1f}")
    say(f"     the same through conformance.command.run_command            {mean(through):8.1f}")
    say(f"     the one-line program through run_command                    {mean(trivial):8.1f}")
    say(f"     writing the case tree (3 copies)                             {write_ms:8.1f}")
    late = sum(1 for a, b in zip(direct, through) if b - a > 0.030)
    say(f"     starts where run_command took > 30 ms longer than subprocess.run: {late} of {n}")
    if seconds:
        buckets = {}
        for s in seconds:
            buckets[int(s * 1e3) // 10 * 10] = buckets.get(int(s * 1e3) // 10 * 10, 0) + 1
        say("     seconds the suite recorded per run (ms bucket: count): "
            + ", ".join(f"{b}: {c}" for b, c in sorted(buckets.items())))


# --------------------------------------------------------------------------------- 3. scaling

def _literal(dumper: yaml.SafeDumper, text: str):
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(str, _literal)
MARK = "BENCH_VARIANT"


def case_templates(root: Path) -> list[tuple[str, str]]:
    """(relative path without suffix, YAML text with MARK where the variant number goes) of
    every real case: each module gains a trailing comment naming its variant."""
    templates = []
    for path in discover(root):
        data = yaml.safe_load(path.read_text("utf-8"))
        data["title"] = f"{data['title']} (variant {MARK})"
        data["modules"] = {mid: text + ("" if text.endswith("\n") else "\n")
                           + f"// bench variant {MARK}\n"
                           for mid, text in data["modules"].items()}
        text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                         width=1 << 16)
        relative = path.relative_to(root).with_suffix("").as_posix()
        templates.append((relative, text))
    return templates


def generate(directory: Path, templates, size: int) -> None:
    """`size` cases: variant k of real case i, with the id `<area>/<name>-v<k>`."""
    for index in range(size):
        k, i = divmod(index, len(templates))
        relative, text = templates[i]
        path = directory / f"{relative}-v{k}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace(MARK, str(k)), encoding="utf-8")


def _status(pid: str, field: str) -> int:
    """A /proc/PID/status figure in bytes (VmHWM: peak resident memory), 0 if unreadable."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _children() -> list[str]:
    """Pids of this process's live children (the reference loader's QuickJS workers)."""
    me = str(os.getpid())
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat_line = Path(f"/proc/{pid}/stat").read_text()
                if stat_line.rsplit(")", 1)[1].split()[1] == me:
                    found.append(pid)
    return found


def scale_child(directory: str, out: str) -> None:
    """Run the command line on the reference loader (-j 1) over `directory` in this fresh
    process, and write the figures to `out`."""
    import conformance.caseload as caseload
    import conformance.cli as cli
    started = time.perf_counter()
    loading = []
    real_read = caseload._parse

    def read_timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return real_read(*args, **kwargs)
        finally:
            loading.append(time.perf_counter() - t0)

    # Every read of a case file: the check before the run and, for a case the check did not
    # keep, the read as it runs (which overlaps with the QuickJS worker's run of the case
    # before).
    caseload._parse = read_timed
    baseline = _status("self", "VmHWM")
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        code = cli.main(["--cases", directory, "-j", "1"])
    seconds = time.perf_counter() - started
    children = _children()
    Path(out).write_text(json.dumps({
        "exit": int(code), "seconds": seconds, "load": sum(loading),
        "hwm": _status("self", "VmHWM"), "hwm_before": baseline,
        "children": len(children), "children_hwm": sum(_status(p, "VmHWM") for p in children)}))


def section_scaling(root: Path, sizes: list[int], floor_us: float) -> None:
    say(f"3. Scaling: generated suites of {', '.join(f'{s:,}' for s in sizes)} cases "
        "(variants of the real cases, unique ids), each run in a fresh process by")
    say("   `commonjs-conformance --cases DIR -j 1` (conformance.cli.main) on the reference "
        "loader; time from the call (loading included), peak = VmHWM of that process")
    rows = []
    with tempfile.TemporaryDirectory(prefix="cjs-bench-scale-") as tmp:
        templates = case_templates(root)
        for size in sizes:
            directory = Path(tmp, f"suite-{size}")
            generate(directory, templates, size)
            out = Path(tmp, f"out-{size}.json")
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, str(HERE), "--scale-child", str(directory),
                                   str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
            wall = time.perf_counter() - t0
            if proc.returncode != 0 or not out.exists():
                say(f"   {size:,} cases: the child failed ({proc.returncode}): "
                    f"{proc.stderr.strip()[-500:]}")
                return
            figures = json.loads(out.read_text())
            figures["wall"] = wall
            rows.append((size, figures))
            shutil.rmtree(directory)
    say(f"   {'cases':>8s}{'exit':>5s}{'process s':>10s}{'main() s':>9s}{'ms/case':>8s}"
        f"{'read ms/case':>13s}{'rest ms/case':>13s}{'peak MiB':>9s}{'at start':>9s}"
        f"{'workers MiB':>12s}")
    for size, f in rows:
        run_s = f["seconds"] - f["load"]
        workers = (f"{f['children_hwm'] / 2**20:7.1f} ({f['children']})" if f["children"]
                   else f"{'none':>11s}")
        say(f"   {size:8,d}{f['exit']:5d}{f['wall']:10.2f}{f['seconds']:9.2f}"
            f"{f['seconds'] / size * 1e3:8.3f}{f['load'] / size * 1e3:13.3f}"
            f"{run_s / size * 1e3:13.3f}{f['hwm'] / 2**20:9.1f}{f['hwm_before'] / 2**20:9.1f}"
            f" {workers}")
    say("   (process s: the child's whole life, as the parent saw it; main() s: "
        "conformance.cli.main, loading included;")
    say("    read: every read of a case file, the check before the run and the read as the case "
        "runs; rest: main() less that;")
    say("    peak: VmHWM of the runner process; workers: VmHWM summed over its live child "
        "processes at the end, and their number)")
    if any(f["exit"] != 0 for _, f in rows):
        say("   (a non-zero exit: not every generated case passed)")
    (small, fs), (large, fl) = rows[0], rows[-1]
    # As a user runs it: the command line over the larger suite less the smaller one, so
    # start-up (imports, the first worker) is left out; every case read, checked and run.
    marginal_us = (fl["wall"] - fs["wall"]) / (large - small) * 1e6
    say("   target: " + target(
        f"the command line at most {COMMAND_LINE_RATIO:g}x the floor per case (process s, "
        f"{large:,} less {small:,} cases)", f"{marginal_us / floor_us:.2f}x",
        marginal_us / floor_us <= COMMAND_LINE_RATIO,
        f"{marginal_us:.0f} us against the floor's {floor_us:.0f} us (section 1, median)"))
    per_case = (fl["seconds"] / large) / (fs["seconds"] / small)
    memory = fl["hwm"] / fs["hwm"]
    growth = (fl["hwm"] - fs["hwm"]) / (large - small)
    say("   target: " + target(
        f"time linear in the number of cases: per-case time {large:,}/{small:,} at most "
        f"{SCALING_TIME:g}x", f"{per_case:.2f}x", per_case <= SCALING_TIME,
        f"{fs['seconds'] / small * 1e3:.3f} and {fl['seconds'] / large * 1e3:.3f} ms per case, "
        "loading included"))
    if (small, large) == (1000, 10000):
        say("   target: " + target(
            f"peak memory flat: {large:,}/{small:,} at most {SCALING_MEMORY:g}x",
            f"{memory:.2f}x", memory <= SCALING_MEMORY,
            f"{fs['hwm'] / 2**20:.1f} and {fl['hwm'] / 2**20:.1f} MiB, "
            f"{growth / 1024:.2f} KiB more per extra case"))
    else:  # a small range hides growth: project the line through both sizes to 1k..10k
        base = fs["hwm"] - growth * small
        projected = (base + growth * 10000) / (base + growth * 1000)
        say("   target: " + target(
            f"peak memory flat: 10,000/1,000 at most {SCALING_MEMORY:g}x (projected from "
            f"{small:,} and {large:,})", f"{projected:.2f}x", projected <= SCALING_MEMORY,
            f"{memory:.2f}x measured, {growth / 1024:.2f} KiB more per extra case"))
    say()


def expression_pass(count: int) -> float:
    """Seconds for `count` bare quickjs.Context() each evaluating one expression, then freed:
    the floor as issue 12 words it."""
    started = time.perf_counter()
    for _ in range(count):
        context = quickjs.Context()
        context.eval("1 + 1")
        del context
    return time.perf_counter() - started


def _runner_seconds(directory: Path, jobs: list[str], cache: Path) -> tuple[float, int]:
    """Wall seconds of `runner.py --cases DIRECTORY` run as a user runs it, in a fresh
    process with the case cache at `cache`, and its exit status."""
    env = dict(os.environ, COMMONJS_CONFORMANCE_CACHE=str(cache))
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(HERE.parent.parent / "runner.py"), "--cases",
                           str(directory), *jobs], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started, proc.returncode


def section_as_a_user(root: Path, repeats: int, copies: int = 8) -> None:
    """The reference loader's command line as a user runs it: the suite copied eight times
    (--quick: twice) less the suite once (start-up left out), per case, against a bare QuickJS
    context evaluating one expression; at -j 1 and at the default -j, the case cache cold and
    warm."""
    templates = case_templates(root)
    one, eight = len(templates), copies * len(templates)
    say(f"4. As a user runs it: `runner.py --cases DIR` on the suite copied {copies} times "
        f"({eight:,} cases) less on one copy ({one:,}), per case;")
    say("   the case cache (conformance/cache.py) empty (cold: the first run of new files) and "
        "filled by that run (warm: every later run)")
    floors = [expression_pass(1000) / 1000 * 1e6 for _ in range(repeats)]
    floor_us = statistics.median(floors)
    say(f"   floor = a bare quickjs.Context() evaluating one expression, then freed: "
        f"{floor_us:.0f} us (median of {repeats})")
    with tempfile.TemporaryDirectory(prefix="cjs-bench-user-") as tmp:
        for size in (one, eight):
            generate(Path(tmp, str(size)), templates, size)
        for label, jobs in (("-j 1", ["-j", "1"]), (f"default -j ({os.cpu_count()})", [])):
            figures = {}
            for state in ("cold", "warm"):
                seconds = {}
                for size in (one, eight):
                    runs = []
                    for attempt in range(1 if state == "cold" else max(repeats // 2, 1)):
                        cache = Path(tmp, f"cache-{label}-{size}")
                        if state == "cold":
                            shutil.rmtree(cache, ignore_errors=True)
                        took, status = _runner_seconds(Path(tmp, str(size)), jobs, cache)
                        if status != 0:
                            say(f"   {label}: the command line exited {status} on {size:,} "
                                "cases; nothing measured")
                            return
                        runs.append(took)
                    seconds[size] = statistics.median(runs)
                figures[state] = (seconds[eight] - seconds[one]) / (eight - one) * 1e6
            for state, per_case in figures.items():
                ratio = per_case / floor_us
                RECORD.setdefault("as_a_user", {})[f"{label} {state}"] = round(ratio, 2)
                say("   target: " + target(
                    f"{label}, cache {state}: at most {COMMAND_LINE_RATIO:g}x the floor per case",
                    f"{ratio:.2f}x", ratio <= COMMAND_LINE_RATIO,
                    f"{per_case:.0f} us against {floor_us:.0f} us"))
    say()


# -------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a short run (smoke test): fewer repeats, 30 cases for node, suites of "
                        "250 and 1,000")
    p.add_argument("--repeats", type=int, help="repeats of each timing (default 7; quick 3; "
                                               "node 3, quick 1)")
    p.add_argument("--cases", type=int, metavar="N",
                   help="only the first N cases in id order (sections 1 and 2)")
    p.add_argument("--sizes", help="generated suite sizes, comma-separated "
                                   "(default 1000,5000,10000; quick 250,1000)")
    p.add_argument("--no-node", action="store_true", help="skip section 2")
    p.add_argument("--no-scaling", action="store_true", help="skip section 3")
    p.add_argument("--no-user", action="store_true", help="skip section 4")
    p.add_argument("--json", type=Path, metavar="FILE",
                   help="also write the targets and what was measured to FILE (REPORT.md's "
                        "speed section is rendered from it: runner.py report --benchmark FILE)")
    p.add_argument("--scale-child", nargs=2, metavar=("DIR", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.scale_child:
        scale_child(*args.scale_child)
        return 0

    began = time.perf_counter()
    say("commonjs-conformance benchmark (bench/benchmark.py)")
    command = f"python {shlex.join(sys.argv)}"
    say(f"command: cd {shlex.quote(os.getcwd())} && {command}")
    RECORD.update(command=command, machine=machine(), tree=tree_state(),
                  date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    say(f"machine: {RECORD['machine']}")
    say(f"tree: {RECORD['tree']}")
    node = shutil.which("node")
    RECORD["versions"] = versions(node)
    say(f"versions: {RECORD['versions']}")
    say("every ratio below sets two figures measured in this run against each other")
    say()

    root = default_root()
    started = time.perf_counter()
    cases, errors = load_all(discover(root), root)
    load_ms = (time.perf_counter() - started) / max(len(cases), 1) * 1e3
    if errors:
        for error in errors:
            say(str(error))
        say("the suite has malformed cases; nothing measured")
        return 0
    if args.cases:
        cases = cases[:args.cases]
    say(f"the suite: {len(cases)} cases from {root} (loaded at {load_ms:.2f} ms per case)")
    say()

    repeats = args.repeats or (3 if args.quick else 7)
    floor_us = section_reference(cases, repeats, breakdown=True)
    if not args.no_node:
        node_cases = cases[:30] if args.quick and not args.cases else cases
        section_node(node_cases, args.repeats or (1 if args.quick else 3),
                     diagnose=not args.quick)
    if not args.no_scaling:
        sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
                 else [250, 1000] if args.quick else [1000, 5000, 10000])
        section_scaling(root, sizes, floor_us)
    if not args.no_user:
        section_as_a_user(root, args.repeats or (3 if args.quick else 5),
                          2 if args.quick else 8)
    took = time.perf_counter() - began
    say(f"benchmark took {took:.1f} s")
    if args.json:
        RECORD["seconds"] = round(took, 1)
        args.json.write_text(json.dumps(RECORD, indent=2) + "\n", encoding="utf-8")
        say(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
