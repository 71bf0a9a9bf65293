"""conformance.transport on its own: a tiny Python child that answers JSON lines, fed through
Channel, Pool and pipeline."""

import os
import signal
import sys
import threading
import time
from typing import Any, Mapping

import pytest

from conformance import transport
from conformance.transport import (DIED, FLOODED, GARBLED, STUCK, Broken, Channel, Exchange,
                                   Pool, StartError, pipeline)
from tests.test_misbehaving_loaders import alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="process checks read /proc (Linux)")

#: The child: for each request {"n": N, "do": WHAT} it answers {"n": N, "pid": its pid}, after
#: doing WHAT: "sleep" (for ever), "exit" (status 3 after 0.3 s, a line on stderr first),
#: "flood" (a line of 100,000 bytes), "text" (a line that is not JSON), "array" (a JSON array),
#: "fork" (start a sleeping grandchild in the same group and answer with its pid too), "echo"
#: (answer with the text it was sent).
CHILD = r"""
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    do, reply = job.get("do"), {"n": job["n"], "pid": os.getpid()}
    if do == "sleep":
        time.sleep(3600)
    elif do == "exit":
        time.sleep(0.3)  # the next job is sent ahead meanwhile
        sys.stderr.write("first\nthe child gives up\n"); sys.stderr.flush()
        sys.exit(3)
    elif do == "flood":
        sys.stdout.write("x" * 100000 + "\n"); sys.stdout.flush(); continue
    elif do == "text":
        sys.stdout.write("this is not json\n"); sys.stdout.flush(); continue
    elif do == "array":
        sys.stdout.write("[1, 2, 3]\n"); sys.stdout.flush(); continue
    elif do == "fork":
        reply["grandchild"] = subprocess.Popen(["sleep", "3600"]).pid
    elif do == "echo":
        reply["text"] = job["text"]
    sys.stdout.write(json.dumps(reply) + "\n"); sys.stdout.flush()
"""
LINE_LIMIT = 10_000


def start() -> Channel:
    return Channel([sys.executable, "-c", CHILD], os.environ, None, LINE_LIMIT)


def until(condition, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class Jobs(Exchange[dict, Any]):
    """Each job is a request dict; the result is the reply, or ("broken", why, detail, pid)."""

    def __init__(self, limit: float = 10.0):
        self.seconds = limit
        self.sends: list[tuple[int, int]] = []  # (job n, pid of the channel it went to)

    def messages(self, channel: Channel, job: dict) -> list[Mapping[str, Any]]:
        return [job]

    def sent(self, channel: Channel, job: dict) -> None:
        self.sends.append((job["n"], channel.proc.pid))

    def limit(self, job: dict) -> float:
        return job.get("limit", self.seconds)

    def reply(self, channel: Channel, job: dict, message: dict[str, Any], seconds: float):
        if message.get("n") != job["n"]:
            return Broken(GARBLED, f"reply to {message.get('n')}, not {job['n']}")
        return message

    def broken(self, channel: Channel, job: dict, broken: Broken, seconds: float):
        return ("broken", broken.why, broken.detail, channel.proc.pid)


def unavailable(job, error):
    return ("unavailable", str(error))


def jobs(*kinds: str) -> list[dict]:
    return [{"n": n, "do": kind} for n, kind in enumerate(kinds)]


def run(todo, pool: Pool, exchange: Exchange | None = None, within: float = 60.0) -> list:
    """Every result of a pipeline, failing the test rather than hanging it."""
    out: list = []
    thread = threading.Thread(target=lambda: out.extend(
        pipeline(todo, pool, exchange or Jobs(), unavailable)), daemon=True)
    thread.start()
    thread.join(within)
    assert not thread.is_alive(), "the pipeline hung"
    return out


@pytest.fixture
def pool():
    made = Pool(start)
    yield made
    made.close()


def test_replies_come_in_order_with_the_next_job_sent_ahead(pool):
    exchange = Jobs()
    seen: list = []
    ahead: list[int] = []
    results = pipeline(jobs(*["ok"] * 6), pool, exchange, unavailable)
    for result in results:
        seen.append(result["n"])
        ahead.append(len(exchange.sends) - len(seen))  # sent but not yet handed back
    assert seen == list(range(6))
    assert ahead[:5] == [transport.AHEAD] * 5 and ahead[5] == 0
    assert len({pid for _, pid in exchange.sends}) == 1  # one channel throughout
    assert len(pool.idle) == 1 and pool.idle[0].usable()


def test_a_large_job_waits_until_the_channel_is_free():
    big = "y" * (transport.AHEAD_BYTES + 1)
    todo = [{"n": 0}, {"n": 1, "do": "echo", "text": big}, {"n": 2}]
    exchange = Jobs()
    roomy = Pool(lambda: Channel([sys.executable, "-c", CHILD], os.environ, None, 1 << 20))
    try:
        results = pipeline(todo, roomy, exchange, unavailable)
        assert next(results)["n"] == 0
        assert [n for n, _ in exchange.sends] == [0]  # the big one is not sent ahead
        assert next(results)["text"] == big
        assert next(results)["n"] == 2
    finally:
        roomy.close()


def test_a_channel_past_its_deadline_is_stuck_and_killed_with_its_group(pool):
    exchange = Jobs()
    todo = [{"n": 0, "do": "fork"}, {"n": 1, "do": "sleep", "limit": 0.5}, {"n": 2}]
    results = pipeline(todo, pool, exchange, unavailable)
    first = next(results)
    child, grandchild = first["pid"], first["grandchild"]
    assert alive(grandchild)
    started = time.monotonic()
    broken = next(results)
    assert broken[:2] == ("broken", STUCK) and broken[3] == child
    assert 0.4 < time.monotonic() - started < 5
    assert until(lambda: not alive(child) and not alive(grandchild))
    last = next(results)
    assert last["n"] == 2 and last["pid"] != child  # re-sent to a fresh channel
    assert list(results) == []


def test_a_channel_that_ends_died_with_its_exit_status_and_last_stderr_line(pool):
    results = run(jobs("ok", "exit", "ok"), pool)
    assert results[0]["n"] == 0 and results[2]["n"] == 2
    why, detail, pid = results[1][1:]
    assert why == DIED
    assert detail == "exit status 3; its stderr ended: the child gives up"
    assert results[2]["pid"] != pid


def test_a_channel_killed_by_a_signal_died(pool):
    exchange = Jobs()
    results = pipeline(jobs("ok", "sleep", "ok"), pool, exchange, unavailable)
    pid = next(results)["pid"]
    os.kill(pid, signal.SIGKILL)
    broken = next(results)
    assert broken[:2] == ("broken", DIED) and broken[2].startswith("killed by signal 9")
    assert next(results)["pid"] != pid


def test_a_line_past_the_limit_is_a_flood(pool):
    results = run(jobs("flood", "ok"), pool)
    assert results[0][:2] == ("broken", FLOODED)
    assert results[0][2] == f"a line longer than {LINE_LIMIT} bytes"
    assert not alive(results[0][3])
    assert results[1]["n"] == 1


@pytest.mark.parametrize("kind, detail", [
    ("text", "not a line of JSON (JSONDecodeError): 'this is not json'"),
    ("array", "a JSON list, not an object"),
])
def test_a_line_that_is_no_json_object_is_garbled(pool, kind, detail):
    results = run(jobs(kind, "ok", "ok"), pool)
    assert results[0][:3] == ("broken", GARBLED, detail)
    assert not alive(results[0][3])
    assert [r["n"] for r in results[1:]] == [1, 2]


def test_a_reply_the_exchange_rejects_breaks_the_channel(pool):
    class Refusing(Jobs):
        def reply(self, channel, job, message, seconds):
            return Broken(GARBLED, "refused") if job["n"] == 1 else message

    results = run(jobs("ok", "ok", "ok"), pool, Refusing())
    assert results[1][:3] == ("broken", GARBLED, "refused")
    assert not alive(results[1][3])
    assert results[2]["pid"] != results[1][3]


def test_jobs_sent_to_a_broken_channel_go_to_a_fresh_one(pool):
    exchange = Jobs()
    results = run(jobs("ok", "exit", "ok", "ok"), pool, exchange)
    broken_pid = results[1][3]
    # Job 2 was sent ahead to the channel that then died, and sent again to the fresh one.
    assert (2, broken_pid) in exchange.sends
    fresh = [pid for n, pid in exchange.sends if n == 2 and pid != broken_pid]
    assert fresh and results[2]["pid"] == fresh[0] == results[3]["pid"]


def test_closing_mid_run_kills_a_busy_channel(pool):
    exchange = Jobs()
    results = pipeline(jobs("ok", "sleep", "ok"), pool, exchange, unavailable)
    pid = next(results)["pid"]  # job 1 (sleep) has been sent ahead: the channel is busy
    results.close()
    assert until(lambda: not alive(pid))
    assert pool.idle == []


def test_closing_when_nothing_is_sent_releases_the_channel_to_the_pool(pool):
    todo = iter(jobs("ok", "ok"))
    results = pipeline(todo, pool, Jobs(), unavailable)
    first = next(results)  # job 1 sent ahead
    second = next(results)
    assert (first["n"], second["n"]) == (0, 1)
    results.close()  # nothing in flight
    assert len(pool.idle) == 1 and pool.idle[0].proc.pid == second["pid"]
    assert pool.idle[0].usable()


def test_a_pool_hands_a_channel_to_one_caller_at_a_time(pool):
    one = pool.acquire()
    two = pool.acquire()
    assert one is not two
    pool.release(one)
    assert pool.acquire() is one
    pool.release(one)
    pool.release(two)
    pool.close()
    assert pool.idle == [] and not one.usable() and not two.usable()


def test_a_forked_child_closing_the_pool_leaves_the_parents_channels_alone(pool):
    channel = pool.acquire()
    pool.release(channel)
    child = os.fork()
    if child == 0:
        try:
            pool.close()
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    assert channel.usable() and alive(channel.proc.pid)
    assert pool.acquire() is channel
    pool.release(channel)


def test_a_dead_idle_channel_is_not_handed_out(pool):
    channel = pool.acquire()
    pool.release(channel)
    os.kill(channel.proc.pid, signal.SIGKILL)
    channel.proc.wait()
    fresh = pool.acquire()
    assert fresh is not channel and fresh.usable()
    pool.release(fresh)


def test_a_channel_that_cannot_start_makes_its_job_unavailable():
    def fails() -> Channel:
        raise OSError(2, "No such file or directory")

    assert run(jobs("ok", "ok"), Pool(fails)) == [
        ("unavailable", "No such file or directory")] * 2
    with pytest.raises(StartError):
        Pool(fails).acquire()


@pytest.mark.parametrize("text", ["plain", "\ud800 lone", "a\udfffb", "\U0001F600", "\x00\x1b",
                                  "\u2028\u2029\x85", "\"\\'"])
def test_strings_travel_both_ways_as_they_were(pool, text):
    (result,) = run([{"n": 0, "do": "echo", "text": text}], pool)
    assert result["text"] == text


def test_a_long_reply_read_in_many_pieces_is_one_line():
    channel = Channel([sys.executable, "-c", "import sys; sys.stdout.write("
                       "'{\"t\": \"' + 'z' * 1000000 + '\"}\\n'); sys.stdout.flush(); "
                       "sys.stdin.read()"], os.environ, None, 2_000_000)
    try:
        message = channel.receive(time.monotonic() + 30)
        assert message == {"t": "z" * 1_000_000}
    finally:
        channel.kill()
