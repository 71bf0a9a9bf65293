"""Running cases against a loader: applicability, preparation, execution, judgement."""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from itertools import chain
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from conformance.contract import DEFAULT_TIMEOUT, Ending, Execution, Loader, Program, capabilities
from conformance.case import Case
from conformance.caseload import HARNESS_FILE
from conformance.clauses import is_profile, spec_name
from conformance.stopping import run_under, stop_running_commands
from conformance.harness import HARNESS_ID, KEY_PLACEHOLDER, new_key, source
from conformance.judge import judge
from conformance.outcomes import Kind, Outcome, Verdict



def not_applicable(case: Case, loader: Loader, spec: str,
                   features: Mapping[str, bool] | None = None) -> str | None:
    """Why `case` does not apply to `loader` under `spec`, or None when it does. `features`
    are the loader's optional features as the run knows them (declared or probed); without
    them, what the loader declares."""
    if spec not in case.versions:
        if is_profile(spec) or any(is_profile(v) for v in case.versions):
            return f"not applicable: the case is of the {spec_name(case.versions[0])}, the " \
                   f"run of the {spec_name(spec)}"
        return f"not applicable: the case applies to Modules/{', '.join(case.versions)}, not {spec}"
    sandbox = loader.declaration.sandbox
    if case.sandbox is True and not sandbox:
        return "not applicable: the case applies only to sandboxes"
    if case.sandbox is False and sandbox:
        return "not applicable: the case does not apply to sandboxes"
    known = loader.declaration.features if features is None else features
    lacking = sorted(f for f in case.needs if known.get(f) is False)
    if lacking:
        how = "declares it has" if features is None else "has"
        return f"not applicable: the loader {how} no " + ", ".join(lacking)
    return None


def prepare(case: Case, timeout: float = DEFAULT_TIMEOUT, key: str = KEY_PLACEHOLDER) -> Program:
    """The Program a loader receives for `case`: its modules plus the harness helper, which
    carries `key` for its DONE check; for a node profile case, its files plus the helper's
    source as conformanceHarness.js in the main file's directory."""
    if case.files:
        directory = case.main.rpartition("/")[0]
        files = dict(case.files)
        files[f"{directory}/{HARNESS_FILE}" if directory else HARNESS_FILE] = source(key)
        return Program(name=case.id, modules={}, main=case.main, timeout=timeout, files=files)
    modules = dict(case.modules)
    modules[HARNESS_ID] = source(key)
    return Program(name=case.id, modules=modules, main=case.main, timeout=timeout)


def _skipped(case: Case, reason: str) -> Verdict:
    return Verdict(case.id, case.clauses, Outcome.SKIP, reason, 0.0, (), Kind.NOT_APPLICABLE)


def _adapter_raised(loader: Loader, exc: Exception, started: float) -> Execution:
    return Execution(stdout="", ending=Ending.CRASHED, exit_code=None,
                     seconds=time.perf_counter() - started,
                     diagnostic=f"{loader.name} adapter raised {type(exc).__name__}: {exc}")


def run_case(case: Case, loader: Loader, spec: str, timeout: float = DEFAULT_TIMEOUT,
             features: Mapping[str, bool] | None = None) -> Verdict:
    """Run one case and judge it; a loader that raises is an error, never a crash of the run."""
    reason = not_applicable(case, loader, spec, features)
    if reason:
        return _skipped(case, reason)
    key = new_key()
    program = prepare(case, timeout, key)
    return judge(case, execute(loader, program), spec, key, features)


#: Wall-clock seconds an in-process loader may take over a program beyond twice its time limit
#: (the QuickJS workers' allowance too) before the run stops waiting for it.
IN_PROCESS_MARGIN = 1.0


def execute(loader: Loader, program: Program) -> Execution:
    """loader.run(program); an adapter that raises gives a crashed Execution. A loader that runs
    in this process (it does not declare waits_on_process) runs in a thread of its own, and
    one that does not return in time (a sleep, a loop in Python) is a timeout: the thread cannot be killed, but
    the run no longer waits for it."""
    started = time.perf_counter()
    if capabilities(loader).waits_on_process:  # it enforces the time limit itself
        try:
            return loader.run(program)
        except Exception as exc:  # an adapter bug must not take the whole run down
            return _adapter_raised(loader, exc, started)
    box: list[Execution] = []

    def target() -> None:
        try:
            box.append(loader.run(program))
        except Exception as exc:
            box.append(_adapter_raised(loader, exc, started))

    thread = threading.Thread(target=target, name=f"loader {program.name}", daemon=True)
    thread.start()
    limit = 2 * program.timeout + IN_PROCESS_MARGIN
    thread.join(limit)
    if box:
        return box[0]
    return Execution(stdout="", ending=Ending.TIMED_OUT, exit_code=None,
                     seconds=time.perf_counter() - started,
                     diagnostic=f"{loader.name} did not return within {limit:g} s of wall clock "
                                f"(twice the time limit, plus {IN_PROCESS_MARGIN:g} s); the run "
                                "went on without it")


class _Walk:
    """The cases, each read once and in order; as an iterator, the programs of those that
    apply, which a loader's run_all takes as it likes. `fates` holds, in case order, every case
    walked and not yet judged: (case, why it does not apply, None) or (case, None, key); or,
    where reading the next case failed, (None, the exception, None), and the walk ends."""

    def __init__(self, cases: Iterable[Case], loader: Loader, spec: str, timeout: float,
                 features: Mapping[str, bool] | None):
        self.cases = iter(cases)
        self.loader, self.spec, self.timeout = loader, spec, timeout
        self.features = features
        self.fates: deque[tuple[Case, str | None, str | None]] = deque()
        self.ready: deque[Program] = deque()  # programs walked to and not yet handed out

    def step(self) -> bool:
        """Walk one case further; False when there is none."""
        try:
            case = next(self.cases)
        except StopIteration:
            return False
        except Exception as exc:  # a case that cannot be read: the cases' fault, not the loader's
            self.cases = iter(())
            self.fates.append((None, exc, None))
            return True
        reason = not_applicable(case, self.loader, self.spec, self.features)
        key = None if reason else new_key()
        self.fates.append((case, reason, key))
        if key:
            self.ready.append(prepare(case, self.timeout, key))
        return True

    def __iter__(self) -> "_Walk":
        return self

    def __next__(self) -> Program:
        while not self.ready:
            if not self.step():
                raise StopIteration
        return self.ready.popleft()


def _run_all(cases: Iterable[Case], loader: Loader, spec: str, timeout: float,
             features: Mapping[str, bool] | None) -> Iterator[Verdict]:
    """run_case() for each case in turn, through the loader's run_all (see contract.Capabilities.pipelines):
    the loader may start the next program while this judges the last."""
    walk = _Walk(cases, loader, spec, timeout, features)
    executions = loader.run_all(walk)
    try:
        while walk.fates or walk.step():
            case, reason, key = walk.fates[0]
            if case is None:  # reached the case that could not be read
                raise reason
            if reason:
                walk.fates.popleft()
                yield _skipped(case, reason)
                continue
            started = time.perf_counter()
            try:
                execution = next(executions)
            except Exception as exc:  # an adapter bug: this case is an error, the rest run alone
                walk.fates.popleft()
                yield judge(case, _adapter_raised(loader, exc, started), spec, key, features)
                rest = chain((fate[0] for fate in walk.fates), walk.cases)
                yield from (run_case(other, loader, spec, timeout, features) for other in rest)
                return
            walk.fates.popleft()
            yield judge(case, execution, spec, key, features)
    finally:
        close = getattr(executions, "close", None)
        if close:
            close()


def run_cases(cases: Sequence[Case], loader: Loader, spec: str,
              timeout: float = DEFAULT_TIMEOUT,
              on_verdict: Callable[[Verdict], None] | None = None,
              jobs: int = 1, features: Mapping[str, bool] | None = None) -> Iterator[Verdict]:
    """Run cases, yielding each verdict in case order (also with jobs > 1 workers).
    `features`: the loader's optional features as the run knows them (features.resolve)."""
    offered = capabilities(loader)
    executor = lanes = None
    stop = threading.Event()
    if (jobs <= 1 or len(cases) < 2) and offered.pipelines:
        verdicts: Iterable[Verdict] = _run_all(cases, loader, spec, timeout, features)
    elif jobs <= 1 or len(cases) < 2:
        verdicts = (run_case(case, loader, spec, timeout, features) for case in cases)
    elif offered.pipelines and offered.waits_on_process:
        lanes = _Lanes(cases, loader, spec, timeout, features, jobs, stop)
        verdicts = lanes
    else:
        executor, verdicts = _parallel(cases, loader, spec, timeout, jobs, features, stop)
    try:
        for verdict in verdicts:
            if on_verdict:
                on_verdict(verdict)
            yield verdict
    finally:
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        if lanes is not None:
            lanes.stop()
        if executor is not None or lanes is not None:
            # Cases still running end now, not at their time limit; so do those whose thread
            # starts its loader after this.
            stop_running_commands(stop)


#: Verdicts a lane may have ready before the run takes them.
LANE_AHEAD = 8


class _Lanes(Iterator[Verdict]):
    """-j N on a loader that pipelines and waits on another process (a host, the reference
    loader's worker): N lanes, each a thread with its own pipeline (_run_all) through its own
    process, taking cases in turn (lane k: cases k, k + N, ...); the verdicts in case order.
    Each process is kept busy while its lane judges, as at -j 1."""

    def __init__(self, cases: Sequence[Case], loader: Loader, spec: str, timeout: float,
                 features: Mapping[str, bool] | None, jobs: int, stop: threading.Event):
        import queue
        self.count = len(cases)
        self.jobs = min(jobs, self.count)
        self.index = 0
        self._stop = stop
        self.queues = [queue.Queue(LANE_AHEAD) for _ in range(self.jobs)]
        self.threads = [threading.Thread(
            target=run_under, args=(stop, self._lane, lane, cases, loader, spec, timeout,
                                    features), daemon=True, name=f"lane-{lane}")
            for lane in range(self.jobs)]
        for thread in self.threads:
            thread.start()

    def _lane(self, lane: int, cases: Sequence[Case], loader: Loader, spec: str,
              timeout: float, features: Mapping[str, bool] | None) -> None:
        out = self.queues[lane]
        verdicts = _run_all((cases[i] for i in range(lane, self.count, self.jobs)), loader,
                            spec, timeout, features)
        try:
            for verdict in verdicts:
                if not self._put(out, (verdict, None)):
                    return
        except BaseException as exc:  # a case file that broke, handed on in its place
            self._put(out, (None, exc))
        finally:
            verdicts.close()

    def _put(self, out, item) -> bool:
        """Queue item for the run; False once the run has stopped."""
        import queue
        while not self._stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __next__(self) -> Verdict:
        if self.index >= self.count:
            raise StopIteration
        verdict, failure = self.queues[self.index % self.jobs].get()
        if failure is not None:
            self.count = self.index  # nothing after the case that broke
            raise failure
        self.index += 1
        return verdict

    def stop(self) -> None:
        self._stop.set()


#: Cases handed to a worker process at once.
BATCH = 16


def _batches(cases: Sequence[Case], size: int) -> Iterator[Sequence[Case]]:
    for start in range(0, len(cases), size):
        yield cases[start:start + size]


_WORKER: tuple[Loader, str, float, Mapping[str, bool] | None] | None = None


def _start_worker(loader: Loader, spec: str, timeout: float,
                  features: Mapping[str, bool] | None) -> None:
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the run, not each worker
    _WORKER = (loader, spec, timeout, features)


def _run_in_worker(batch: Sequence[Case]) -> list[Verdict]:
    assert _WORKER is not None
    loader, spec, timeout, features = _WORKER
    return [run_case(case, loader, spec, timeout, features) for case in batch]


def _parallel(cases: Sequence[Case], loader: Loader, spec: str, timeout: float, jobs: int,
              features: Mapping[str, bool] | None, stop: threading.Event):
    """An executor and the ordered stream of its verdicts: worker processes for in-process
    loaders that declare they fork, threads for the rest (loaders that wait on another
    process, and in-process loaders that cannot be copied)."""
    offered = capabilities(loader)
    if offered.forks and not offered.waits_on_process:
        executor: Executor = ProcessPoolExecutor(
            jobs, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker,
            initargs=(loader, spec, timeout, features))
        size = max(1, min(BATCH, len(cases) // (jobs * 4)))
        return executor, chain.from_iterable(_ahead(executor, _run_in_worker,
                                                    _batches(cases, size), jobs * 2))
    executor = ThreadPoolExecutor(jobs)

    def task(case: Case) -> Verdict:
        return run_under(stop, run_case, case, loader, spec, timeout, features)

    return executor, _ahead(executor, task, cases, jobs * AHEAD_PER_JOB)


#: Cases a parallel run submits ahead per job: enough to keep every job busy, few enough that
#: memory does not grow with the suite (Executor.map would submit every case at once).
AHEAD_PER_JOB = 4


def _ahead(executor: Executor, function: Callable, items: Iterable, window: int) -> Iterator:
    """function(item) for each item, run by the executor with at most `window` submitted at
    once; results in item order. An item that cannot be had (a case file that broke) raises
    after the results of the items before it."""
    source = iter(items)
    running: deque = deque()
    failure: Exception | None = None
    exhausted = False
    while True:
        while not exhausted and failure is None and len(running) < window:
            try:
                running.append(executor.submit(function, next(source)))
            except StopIteration:
                exhausted = True
            except Exception as exc:
                failure = exc
        if not running:
            break
        yield running.popleft().result()
    if failure is not None:
        raise failure
