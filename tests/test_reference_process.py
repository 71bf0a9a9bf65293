"""The QuickJS worker process seen from the runner (conformance.reference.process): pipelined
runs give what one-at-a-time runs give, whatever goes wrong in between."""

import dataclasses
import gc
import json
import os
import signal
import sys
import threading
import time
import types

import pytest

from conformance import stopping
from conformance.contract import Ending, Execution, Program
from conformance.reference import ReferenceLoader, loader_source, process, worker
from conformance.reference.engine import execute
from conformance.transport import Channel, StartError


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


def live_workers() -> list[Channel]:
    """Every QuickJS worker channel whose process still runs, idle or busy."""
    return [o for o in gc.get_objects() if isinstance(o, Channel) and o.usable()
            and "conformance.reference.worker" in o.argv]


def busy_workers() -> list[Channel]:
    return [w for w in live_workers() if w not in process.POOL.idle]


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
    assert executions[1].diagnostic == (
        "no answer within 1.4 s of wall clock (QuickJS stuck in native code, where its CPU "
        "limit is not checked); the QuickJS worker process was killed")


def test_a_stuck_worker_is_killed_and_a_fresh_one_replaces_it():
    loader = ReferenceLoader()
    assert loader.run(program("warm", "print(1);")).stdout == "1\n"
    before = set(live_workers())
    stuck = loader.run(program("stuck", "/(x+x+)+y/.test(new Array(40).join('x'));", 0.2))
    assert stuck.ending is Ending.TIMED_OUT
    killed = [w for w in before if w.proc.returncode is not None]
    assert killed and all(w not in process.POOL.idle for w in killed)
    assert loader.run(program("after", "print('after');")).stdout == "after\n"


def test_a_worker_killed_mid_run_fails_that_program_and_the_rest_run_on_a_fresh_one():
    loader = ReferenceLoader()
    slow = program("slow", "var t = Date.now(); while (Date.now() - t < 4000) {} print('x');")
    programs = [slow, program("a", "print('a');"), program("b", "print('b');")]

    def kill_the_busy_worker():
        for channel in busy_workers():
            os.kill(channel.proc.pid, signal.SIGKILL)

    timer = threading.Timer(1.0, kill_the_busy_worker)
    timer.start()
    executions = run_all(loader, programs)
    timer.join()
    assert executions[0].ending is Ending.CRASHED
    assert executions[0].diagnostic == "the QuickJS worker process died (signal SIGKILL)"
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
    busy = busy_workers()
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


def test_output_at_the_limit_in_escaped_characters_fits_a_reply():
    # Every character escaped to six bytes, up to the loader's output limit: the largest
    # stdout a reply carries, with an uncaught error beside it.
    loader = ReferenceLoader()
    text = ("var line = new Array(1000).join('\\u0001');"
            "for (var i = 0; i < 2000; i++) print(line);"
            "throw new Error(new Array(1000).join('\\u00e9'));")
    (execution,) = run_all(loader, [program("escaped", text)])
    assert execution.ending is Ending.EXITED and execution.exit_code == 1, execution.diagnostic
    assert execution.truncated and len(execution.stdout) <= 1 << 20


def test_an_enormous_error_message_is_cut_to_the_field_limit():
    loader = ReferenceLoader()
    execution = loader.run(program("huge", "throw new Error(new Array(3000001).join('x'));"))
    assert (execution.ending, execution.exit_code) == (Ending.EXITED, 1), execution.diagnostic
    assert execution.stderr.startswith("Uncaught Error: xxx")
    assert len(execution.stderr) < process.FIELD_CHARS + 200
    assert execution.stderr.endswith(f"stderr beyond {process.FIELD_CHARS} characters was "
                                     "dropped\n")


def test_lone_surrogates_and_odd_characters_come_back_as_they_were_printed():
    loader = ReferenceLoader()
    text = ("print('a\\ud800b', '\\udfff', '\\u2028\\u2029\\x00\\x1b', '\\ud83d\\ude00');"
            "throw new Error('lone \\udc00 end');")
    (execution,) = run_all(loader, [program("odd", text)])
    assert execution.stdout == "a\ud800b \udfff \u2028\u2029\x00\x1b \U0001F600\n"
    assert execution.stderr.startswith("Uncaught Error: lone \udc00 end")
    job = loader._job(program("odd", text))
    in_process = execute(job.js_source, job.input, job.timeout)
    assert essence(execution) == essence(in_process)


@pytest.mark.parametrize("text", ["plain", "", "\ud800", "a\udfffb", "\U0001F600", "\x00\x1f",
                                  "\u2028\u2029", "\"\\", "é" * 10])
def test_a_reply_round_trips_every_string(text):
    execution = Execution(stdout=text, stderr=text + "\n", ending=Ending.TIMED_OUT,
                          exit_code=None, seconds=1.5, diagnostic=text, truncated=True)
    line = worker.encode(execution)
    assert line.endswith(b"\n") and b"\n" not in line[:-1]
    line.decode("ascii")  # escapes only
    message = json.loads(line)
    assert process.reply_problem(message) is None
    assert process._Exchange().reply(None, None, message, 0.0) == execution


def test_a_reply_has_every_field_of_an_execution():
    assert set(process._REPLY_FIELDS) == {f.name for f in dataclasses.fields(Execution)}


@pytest.mark.parametrize("change, problem", [
    (lambda m: m.pop("stdout"), "no stdout"),
    (lambda m: m.update(ending="finished"), "its ending is 'finished'"),
    (lambda m: m.update(ending=["exited"]), "its ending is ['exited']"),
    (lambda m: m.update(seconds=-1), "its seconds is -1"),
    (lambda m: m.update(truncated=0), "its truncated is 0"),
    (lambda m: m.update(exit_code=True), "its exit_code is True"),
    (lambda m: m.update(seconds=float("nan")), "its seconds is nan"),
    (lambda m: m.update(stderr=None), "its stderr is None"),
    (lambda m: m.update(extra=1), "fields no Execution has: extra"),
])
def test_a_malformed_reply_is_garbled(change, problem):
    message = json.loads(worker.encode(Execution(stdout="x")))
    change(message)
    broken = process._Exchange().reply(None, None, message, 0.0)
    assert broken.why == "garbled" and problem in broken.detail


def fake_worker(monkeypatch, code: str, line_limit: int = process.LINE_LIMIT):
    """Workers from now on are `python -c code`; the real ones idle now are put aside."""
    monkeypatch.setattr(process.POOL, "idle", [])
    monkeypatch.setattr(process.POOL, "start", lambda: Channel(
        [sys.executable, "-c", code], os.environ, None, line_limit))


ANSWER = ("import sys, json\n"
          "for line in sys.stdin:\n"
          "    message = json.loads(line)\n"
          "    if message['type'] == 'run':\n"
          "        sys.stdout.write(REPLY + '\\n'); sys.stdout.flush()\n")


@pytest.mark.parametrize("reply, diagnostic", [
    ("'not json'", "the QuickJS worker process broke its protocol: not a line of JSON"),
    ("'[1, 2]'", "the QuickJS worker process broke its protocol: a JSON list, not an object"),
    ("'{\"stdout\": 1}'", "the QuickJS worker process broke its protocol: a reply that is not "
                          "an Execution (no stderr"),
    ("'x' * 200000", "the QuickJS worker process wrote a line longer than 1000 bytes, more than "
                   "any reply can take; it was killed; the next program runs in a fresh one"),
])
def test_a_worker_that_breaks_the_protocol_is_a_crash(monkeypatch, reply, diagnostic):
    fake_worker(monkeypatch, f"REPLY = {reply}\n" + ANSWER, line_limit=1000)
    (execution,) = run_all(ReferenceLoader(), [program("p", "print(1);")])
    assert execution.ending is Ending.CRASHED and execution.stdout == ""
    assert execution.diagnostic.startswith(diagnostic), execution.diagnostic


def test_a_worker_that_exits_says_how_and_what_it_last_wrote_to_stderr(monkeypatch):
    fake_worker(monkeypatch, "import sys; sys.stdin.readline(); "
                             "sys.exit('worker: cannot go on')")
    execution = ReferenceLoader().run(program("p", "print(1);"))
    assert execution.ending is Ending.CRASHED
    assert execution.diagnostic == ("the QuickJS worker process died (exit status 1); its "
                                    "stderr ended: worker: cannot go on")


def test_a_worker_that_cannot_start_makes_the_program_unavailable(monkeypatch):
    def start():
        raise StartError("no such interpreter")

    monkeypatch.setattr(process.POOL, "start", start)
    monkeypatch.setattr(process.POOL, "idle", [])
    execution = ReferenceLoader().run(program("p", "print(1);"))
    assert execution.ending is Ending.UNAVAILABLE
    assert execution.diagnostic == ("the QuickJS worker process could not be started: no such "
                                    "interpreter")


def test_stopping_early_kills_a_worker_that_still_has_programs_and_the_next_run_is_fresh():
    loader = ReferenceLoader()
    programs = iter([program(f"p{i}", f"print({i});") for i in range(5)])
    executions = loader.run_all(programs)
    assert next(executions).stdout == "0\n"
    busy = busy_workers()
    executions.close()
    assert busy and all(w.proc.poll() is not None for w in busy)  # had a program sent ahead
    assert next(programs).name == "p2"  # p1 was sent ahead; nothing more was taken
    assert loader.run(program("later", "print('later');")).stdout == "later\n"
    assert not set(busy) & set(process.POOL.idle)


def test_a_stopped_run_kills_the_busy_worker_and_never_hands_it_back():
    # What Ctrl-C does (run.py): every busy worker is killed; its program comes back crashed.
    loader = ReferenceLoader()
    slow = program("slow", "var t = Date.now(); while (Date.now() - t < 10000) {} print('x');")
    out: list = []
    other = threading.Thread(target=lambda: out.append(loader.run(slow)))
    other.start()
    time.sleep(0.5)
    busy = busy_workers()
    assert len(busy) == 1
    stopping.stop_running_commands()
    other.join(30)
    assert not other.is_alive()
    assert out[0].ending is Ending.CRASHED
    assert out[0].diagnostic == "the QuickJS worker process died (signal SIGKILL)"
    assert busy[0].proc.returncode is not None and busy[0] not in process.POOL.idle
    assert loader.run(program("later", "print('later');")).stdout == "later\n"


def test_a_run_that_ends_normally_keeps_its_worker_for_any_later_run():
    loader = ReferenceLoader()
    list(loader.run_all([program("a", "print(1);"), program("b", "print(2);")]))
    kept = process.POOL.idle[-1]
    assert kept.usable()
    list(loader.run_all([program("c", "print(3);")]))
    assert process.POOL.idle[-1] is kept


def test_a_worker_is_sent_each_loader_source_once():
    loader = ReferenceLoader()
    other = ReferenceLoader(js_source=loader_source() + "\n// another\n")
    list(loader.run_all([program("a", "print(1);")]))
    kept = process.POOL.idle[-1]
    assert kept.state["sources"] == {process._source_id(loader.js_source)}
    exchange = process._Exchange()
    again = exchange.lines(kept, loader._job(program("b", "print(2);"))).splitlines()
    assert [json.loads(line)["type"] for line in again] == ["run"]
    new = exchange.lines(kept, other._job(program("b", "print(2);"))).splitlines()
    assert [json.loads(line)["type"] for line in new] == ["source", "run"]


@pytest.mark.parametrize("text", [
    '{"files": [["/m/p.js", "print(\\"a\\\\nb\\", \\"}\\")"]], "x": "\\u2028 \\ud800"}',
    '{\n  "pretty": [1,\n 2]\n}',  # line feeds: white space between tokens
    '{"raw": "\ud800 \u00e9 \U0001F600"}',  # characters beyond ASCII, a lone surrogate
    'not json at all } ,"input":',
    '',
])
def test_a_run_message_carries_its_input_text_as_it_is(text):
    job = process.Job(loader_source(), text, 1.0, 1, 2, 3, "k" * 8)
    knows = types.SimpleNamespace(state={"sources": {process._source_id(job.js_source)}})
    (line,) = process._Exchange().lines(knows, job).splitlines(keepends=True)
    message = worker.parse(line)
    assert message.pop("input") == text.replace("\n", " ")
    assert message == {"type": "run", "source": process._source_id(job.js_source),
                       "timeout": 1.0, "memory_limit": 1, "stack_limit": 2, "output_limit": 3,
                       "harness_key": "k" * 8}
    if text.startswith("{"):  # a JSON object as the input: the line is JSON as it stands
        assert json.loads(line.decode("utf-8", "surrogatepass"))["input"] == json.loads(text)


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
    idle = list(process.POOL.idle)
    assert len(idle) == len(set(idle)) >= 2
