"""The QuickJS worker process seen from the runner (conformance.reference.process): pipelined
runs give what one-at-a-time runs give, whatever goes wrong in between."""

import dataclasses
import os
import signal
import threading
import time

from conformance.adapter import Ending, Program
from conformance.reference import ReferenceLoader, process


def program(name: str, text: str, timeout: float = 5.0, **more: str) -> Program:
    return Program(name, {"program": text, **more}, "program", timeout)


def essence(execution):
    return dataclasses.replace(execution, seconds=0.0)


def run_all(loader, programs, limit: float = 60.0):
    """loader.run_all's Executions, failing the test rather than hanging it."""
    out: list = []
    worker = threading.Thread(target=lambda: out.extend(loader.run_all(programs)), daemon=True)
    worker.start()
    worker.join(limit)
    assert not worker.is_alive(), "the pipelined run hung"
    return out


def test_a_pipelined_run_gives_what_single_runs_give():
    loader = ReferenceLoader()
    programs = [program(f"p{i}", f"print({i}, typeof require, module.id);") for i in range(20)]
    programs.append(program("throws", "throw new Error('x');"))
    programs.append(program("syntax", "print(;"))
    assert [essence(e) for e in run_all(loader, programs)] == \
        [essence(loader.run(p)) for p in programs]


def test_a_program_stuck_in_native_code_times_out_and_the_ones_sent_after_it_still_run():
    loader = ReferenceLoader()
    stuck = program("stuck", "/(x+x+)+y/.test(new Array(40).join('x')); print('no');", 0.2)
    programs = [program("before", "print('before');"), stuck,
                program("after1", "print('after1');"), program("after2", "print('after2');")]
    executions = run_all(loader, programs)
    assert [e.stdout for e in executions] == ["before\n", "", "after1\n", "after2\n"]
    assert executions[1].ending is Ending.TIMED_OUT
    assert "QuickJS stuck in native code" in executions[1].diagnostic


def test_a_worker_killed_mid_run_fails_that_program_and_the_rest_run_on_a_fresh_one():
    loader = ReferenceLoader()
    slow = program("slow", "var t = Date.now(); while (Date.now() - t < 4000) {} print('x');")
    programs = [slow, program("a", "print('a');"), program("b", "print('b');")]

    def kill_the_busy_worker():
        for worker in live_workers():
            if worker not in process._idle:
                os.kill(worker.proc.pid, signal.SIGKILL)

    timer = threading.Timer(1.0, kill_the_busy_worker)
    timer.start()
    executions = run_all(loader, programs)
    timer.join()
    assert executions[0].ending is Ending.CRASHED
    assert "the QuickJS worker process died (signal SIGKILL)" in executions[0].diagnostic
    assert [e.stdout for e in executions[1:]] == ["a\n", "b\n"]


def test_a_worker_killed_while_the_caller_judges_is_not_mistaken_for_a_fresh_one():
    # The worker dies running the job sent ahead while the caller still holds the last
    # Execution: the next job must not go to another worker whose first reply would then be
    # taken for the dead one's.
    loader = ReferenceLoader()
    slow = program("slow", "var t = Date.now(); while (Date.now() - t < 4000) {} print('x');")
    executions = loader.run_all(iter([program("first", "print('first');"), slow,
                                      program("a", "print('a');"), program("b", "print('b');")]))
    assert next(executions).stdout == "first\n"
    time.sleep(0.5)  # the worker is running the slow program now
    busy = [w for w in live_workers() if w not in process._idle]
    assert len(busy) == 1
    os.kill(busy[0].proc.pid, signal.SIGKILL)
    busy[0].proc.wait()
    rest = list(executions)
    assert rest[0].ending is Ending.CRASHED and rest[0].stdout == ""
    assert [e.stdout for e in rest[1:]] == ["a\n", "b\n"]


def test_large_programs_and_large_outputs_in_a_row_do_not_deadlock():
    loader = ReferenceLoader()
    big_source = "var s = '" + "x" * 300_000 + "'; print(s.length);"
    big_output = "for (var i = 0; i < 2000; i++) print(new Array(200).join('y'));"
    programs = [program("out1", big_output), program("in1", big_source),
                program("out2", big_output), program("in2", big_source),
                program("tiny", "print('tiny');")]
    executions = run_all(loader, programs)
    assert [len(e.stdout) for e in executions] == [2000 * 200, 7, 2000 * 200, 7, 5]


def test_stopping_early_kills_a_worker_that_still_has_programs_and_the_next_run_is_fresh():
    loader = ReferenceLoader()
    programs = iter([program(f"p{i}", f"print({i});") for i in range(5)])
    executions = loader.run_all(programs)
    assert next(executions).stdout == "0\n"
    busy = [w for w in live_workers() if w not in process._idle]
    executions.close()
    assert busy and all(w.proc.poll() is not None for w in busy)  # had a program sent ahead
    assert next(programs).name == "p2"  # p1 was sent ahead; nothing more was taken
    assert loader.run(program("later", "print('later');")).stdout == "later\n"
    assert not set(busy) & set(process._idle)


def test_a_run_that_ends_normally_keeps_its_worker_for_any_later_run():
    loader = ReferenceLoader()
    list(loader.run_all([program("a", "print(1);"), program("b", "print(2);")]))
    kept = process._idle[-1]
    assert kept.usable()
    list(loader.run_all([program("c", "print(3);")]))
    assert process._idle[-1] is kept



def test_runs_at_once_get_workers_of_their_own_and_hand_them_back():
    loader = ReferenceLoader()
    slow = program("slow", "var t = Date.now(); while (Date.now() - t < 1500) {} print('slow');")
    out: list = []
    other = threading.Thread(target=lambda: out.append(loader.run(slow).stdout))
    other.start()
    time.sleep(0.2)  # the slow program has its worker by now
    assert loader.run(program("quick", "print('quick');")).stdout == "quick\n"
    assert out == []  # the quick one did not wait for the slow one's worker
    other.join(30)
    assert out == ["slow\n"]
    idle = list(process._idle)
    assert len(idle) == len(set(idle)) >= 2


def live_workers():
    import gc
    return [o for o in gc.get_objects() if isinstance(o, process._Worker) and o.usable()]
