"""Loaders run as hosts: the host protocol, and what the runner does with a host that misbehaves."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conformance import host
from conformance.contract import Ending, Program
from conformance.host import HostLoader
from conformance.schemas import problem, validator
from conformance.registry import LoaderFileError, from_file
from tests.test_misbehaving_loaders import alive

ROOT = Path(__file__).resolve().parent.parent
FAKE = Path(__file__).resolve().parent / "fake_hosts" / "host.py"
GROUP = "Misbehaving loaders"
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def fake(*args: str) -> HostLoader:
    return HostLoader(" ".join([sys.executable, str(FAKE), *args]), name="fake host")


def programs(count: int, timeout: float = 20.0, slow: int = 0) -> list[Program]:
    """Programs c1..cN; program number `slow` has a time limit of one second."""
    return [Program(name=f"c{i}", modules={"program": "print('x');"}, main="program",
                    timeout=1.0 if i == slow else timeout) for i in range(1, count + 1)]


@pytest.fixture
def loaders():
    made = []

    def make(*args: str) -> HostLoader:
        made.append(fake(*args))
        return made[-1]

    yield make
    for loader in made:
        loader.close()


def test_a_host_runs_case_after_case_in_one_process(loaders):
    loader = loaders("leak")
    executions = list(loader.run_all(programs(4)))
    # the first request was the canary's
    assert [e.stdout for e in executions] == [f"ran c{i}\nrequests before: {i}\n"
                                              for i in range(1, 5)]
    assert all(e.ending is Ending.EXITED and e.exit_code == 0 for e in executions)


MISBEHAVIOURS = {
    "hang": (Ending.TIMED_OUT, "killed after 1 s (the host was killed; a fresh host takes "
                               "the next case)",
             "the host never answers a request"),
    "die": (Ending.CRASHED, "the host died while running the case (exit status 7; its stderr "
                            "ended: host.py: dying on purpose)",
            "the host exits in the middle of a request"),
    "flood": (Ending.EXITED, "stopped at the output limit: the host wrote a line longer than",
              "the host answers with a line past the limit"),
    "garbage": (Ending.CRASHED, "the host broke the protocol: not a line of JSON",
                "the host answers with a line that is not JSON"),
    "array": (Ending.CRASHED, "the host broke the protocol: a JSON list, not an object",
              "the host answers with a JSON array"),
    "wrong-id": (Ending.CRASHED, "a reply that breaks the protocol (the reply is to request "
                                 "1003, not 3)", "the host answers with another request's id"),
    "bad-shape": (Ending.CRASHED, "a reply that breaks the protocol ('stderr' is a required "
                                  "property)", "the host answers without a stderr field"),
}


@pytest.mark.parametrize("mode", sorted(MISBEHAVIOURS))
def test_a_misbehaving_host_gets_a_named_verdict_and_the_next_case_a_fresh_host(
        loaders, monkeypatch, hostile, mode):
    monkeypatch.setattr(host, "LINE_LIMIT", 64 << 10)
    ending, says, tried = MISBEHAVIOURS[mode]
    loader = loaders(mode, "2")
    runs = loader.run_all(programs(4, slow=2 if mode == "hang" else 0))
    executions = list(runs)
    assert [e.stdout for e in executions[:1] + executions[2:]] == ["ran c1\n", "ran c3\n",
                                                                   "ran c4\n"]
    broken = executions[1]
    assert broken.ending is ending and broken.stdout == ""
    assert says in broken.diagnostic
    assert broken.diagnostic.endswith(f"host: {loader.command}")
    if mode == "flood":
        assert broken.truncated
    hostile(GROUP, f"a host (`protocol: host`): {tried}",
            f"that case: {ending.value}, `{says}`; the host was killed, and the next case "
            "ran on a fresh one")


def test_a_broken_host_is_killed_with_everything_it_started(loaders):
    loader = loaders("hang", "1")
    channel = loader.pool.acquire()
    pid = channel.proc.pid
    loader.pool.release(channel)
    (execution,) = loader.run_all(programs(1, slow=1))
    assert execution.ending is Ending.TIMED_OUT
    assert not alive(pid)


START_FAILURES = {
    "no-hello": ("no hello line within 1 s", "the host never says hello"),
    "bad-hello": ("its hello line is wrong: protocol: 'commonjs-conformance-host' was expected",
                  "the host's hello names another protocol"),
    "old-version": ("its hello line is wrong: it speaks version 2 of the host protocol; this "
                    "runner speaks 1",
                    "the host speaks another version of the protocol"),
    "exit-at-start": ("it ended: exit status 3; its stderr ended: host.py: cannot start, on "
                      "purpose", "the host exits before its hello"),
}


@pytest.mark.parametrize("mode", sorted(START_FAILURES))
def test_a_host_that_does_not_start_properly_is_unavailable_saying_why(
        loaders, monkeypatch, hostile, mode):
    monkeypatch.setattr(host, "START_SECONDS", 1.0)
    says, tried = START_FAILURES[mode]
    executions = list(loaders(mode).run_all(programs(2)))
    assert [e.ending for e in executions] == [Ending.UNAVAILABLE] * 2
    assert executions[0].diagnostic.startswith(f"the host did not start: {says}"), \
        executions[0].diagnostic
    hostile(GROUP, f"a host (`protocol: host`): {tried}",
            f"each case: unavailable, `the host did not start: {says}`")


def test_every_request_the_runner_sends_is_valid_under_the_request_schema(loaders, tmp_path):
    record = tmp_path / "requests"
    loader = loaders("record", str(record))
    list(loader.run_all(programs(3)))
    requests = [json.loads(line) for line in record.read_text().splitlines()]
    assert [r["id"] for r in requests] == [1, 2, 3, 4]
    assert [r["case"] for r in requests] == ["canary", "c1", "c2", "c3"]
    for request in requests:
        assert problem("host-request", request) is None
    assert problem("host-request", {**requests[0], "modules": {"a//b": ""}}) is not None
    assert problem("host-request", {**requests[0], "timeout": 0}) is not None


@needs_node
@pytest.mark.parametrize("host_script", ["node-host.js", "vm-host.js", "node-worker-host.js"])
def test_the_node_hosts_messages_are_valid_under_the_schemas(host_script):
    requests = [{"type": "run", "id": i, "case": f"c{i}", "modules": {"program": source},
                 "main": "program", "sandbox": False, "timeout": 5}
                for i, source in enumerate([
                    "(typeof print === 'function' ? print : console.log)('a');",
                    "throw new Error('b');"], 1)]
    run = subprocess.run(["node", str(ROOT / "examples" / host_script)],
                         input="".join(json.dumps(r) + "\n" for r in requests),
                         capture_output=True, text=True, timeout=60)
    hello, *replies = [json.loads(line) for line in run.stdout.splitlines()]
    assert problem("host-hello", hello) is None and hello["version"] == host.VERSION
    assert [r["id"] for r in replies] == [1, 2]
    for reply in replies:
        assert problem("host-reply", reply) is None
    assert replies[1]["exit_code"] == 1 and "Error: b" in replies[1]["stderr"]


def _summary(*args: str) -> tuple[int, str]:
    run = subprocess.run([sys.executable, str(ROOT / "runner.py"), *args],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    return run.returncode, run.stdout


@needs_node
@pytest.mark.parametrize("sandbox", [False, True], ids=["plain", "sandbox"])
def test_the_vm_host_passes_every_case_that_applies_to_it(tmp_path, sandbox):
    loader_file = ROOT / "examples" / "vm-host.yaml"
    if sandbox:
        text = loader_file.read_text().replace("name: vm-host", "name: vm-host-sandbox\n"
                                                                "sandbox: true")
        loader_file = tmp_path / "vm-host-sandbox.yaml"
        loader_file.write_text(text.replace("{loader_dir}", str(ROOT / "examples")))
    results = tmp_path / "results.json"
    code, out = _summary("--loader-file", str(loader_file), "--json", str(results), "-j", "2")
    assert code == 0, out
    verdicts = [json.loads(line) for line in results.read_text().splitlines()[1:]]
    outcomes = {v["outcome"] for v in verdicts if "outcome" in v}
    assert outcomes == {"pass", "skip"}, out
    assert sum(v.get("outcome") == "pass" for v in verdicts) >= (130 if sandbox else 120)


def test_a_loader_file_says_its_protocol(tmp_path):
    path = tmp_path / "loader.yaml"
    path.write_text("name: x\nprotocol: carrier-pigeon\ncommand: node x.js\n")
    with pytest.raises(LoaderFileError, match=r"loader\.yaml:2: protocol: protocol is one of "
                                              "command, host"):
        from_file(path)
    path.write_text(f"name: x\nprotocol: host\ncommand: {sys.executable} {{root}}\n")
    with pytest.raises(LoaderFileError, match=r"a host's command takes no \{root\}"):
        from_file(path)
    path.write_text(f"name: x\nprotocol: host\ncommand: {sys.executable} {{loader_dir}}/h.py\n")
    loader = from_file(path)
    assert isinstance(loader, HostLoader) and loader.argv[1] == f"{tmp_path}/h.py"


def test_the_protocol_document_names_every_field_of_every_message():
    text = (ROOT / "docs" / "host-protocol.md").read_text()
    for name in ("hello", "request", "reply"):
        for field in validator(f"host-{name}").schema["properties"]:
            assert f"`{field}`" in text, (name, field)


LEAKS = {
    "shared-context": ("globals an earlier case set: commonjsConformanceCanary",
                       "Object.prototype keeps commonjsConformanceCanary",
                       "a host that runs every program in one global context"),
    "shared-cache": ("require() returned a module an earlier case loaded",
                     "require() returned a module an earlier case loaded",
                     "a host that keeps one module cache for every program"),
}


@needs_node
@pytest.mark.parametrize("mode", sorted(LEAKS))
def test_canaries_see_state_a_host_carries_from_one_case_to_the_next(hostile, mode):
    global_says, prototype_says, tried = LEAKS[mode]
    loader = HostLoader(f"node {FAKE.parent / 'leaky-host.js'} {mode}", name="leaky")
    try:
        executions = list(loader.run_all(programs(2 * host.CANARY_EVERY)))
    finally:
        loader.close()
    leaks = [e.leak for e in executions if e.leak]
    assert leaks, "the leak was not seen"
    assert global_says in leaks[0] and prototype_says in leaks[0], leaks[0]
    assert loader.canaries.leaks
    hostile(GROUP, f"a host (`protocol: host`): {tried}",
            f"the canary programs interleaved every {host.CANARY_EVERY} cases see it: "
            f"`{leaks[0][:120]}`")


@needs_node
@pytest.mark.parametrize("host_file", ["node-host.yaml", "vm-host.yaml"])
def test_canaries_see_nothing_on_a_host_that_isolates_its_programs(host_file):
    loader = from_file(ROOT / "examples" / host_file)
    try:
        polluting = [Program(name=f"p{i}", main="program", timeout=20.0, modules={
            "program": "x = 1; Object.prototype.y = 2; exports.z = 3; module.q = 4; "
                       "(typeof print === 'function' ? print : console.log)('ran');"})
            for i in range(3 * host.CANARY_EVERY)]
        executions = list(loader.run_all(polluting))
    finally:
        loader.close()
    assert [e.stdout for e in executions] == ["ran\n"] * len(polluting)
    assert not [e.leak for e in executions if e.leak] and not loader.canaries.leaks


def test_a_stopped_run_kills_the_host_busy_with_a_case(loaders):
    import threading
    import time

    from conformance.stopping import run_under, stop_running_commands

    loader = loaders("hang", "1")
    stop = threading.Event()
    results = []
    worker = threading.Thread(target=lambda: results.extend(
        run_under(stop, lambda: list(loader.run_all(programs(2))))))
    worker.start()
    deadline = time.monotonic() + 20
    while not [p for p in _fake_pids("hang") if alive(p)] and time.monotonic() < deadline:
        time.sleep(0.05)
    (pid,) = [p for p in _fake_pids("hang") if alive(p)]
    stop_running_commands(stop)
    worker.join(20)
    assert not worker.is_alive(), "the run did not end when stopped"
    assert not alive(pid)


def _fake_pids(mode: str) -> list[int]:
    """Processes running the fake host in `mode`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(FAKE).encode() in argv and mode.encode() in argv:
                found.append(int(entry.name))
    return found


@needs_node
def test_a_leaking_host_is_never_certified(tmp_path, hostile):
    loader_file = tmp_path / "leaky.yaml"
    loader_file.write_text(f"name: leaky\nprotocol: host\n"
                           f"command: node {FAKE.parent / 'leaky-host.js'} shared-context\n")
    results, recorded = tmp_path / "results.json", tmp_path / "expected.yaml"
    code, out = _summary("--loader-file", str(loader_file), "-j", "1",
                         "--json", str(results), "--write-expectations", str(recorded))
    verdicts = [json.loads(line) for line in results.read_text().splitlines()[1:]]
    leaks = [v for v in verdicts if v.get("kind") == "state-leak"]
    assert leaks and all(v["outcome"] == "error" for v in leaks), out
    assert "carried state from an earlier case" in leaks[0]["message"]
    assert code != 0
    written = yaml.safe_load(recorded.read_text())["failures"] or {}
    assert not [v["id"] for v in leaks if v["id"] in written], written
    code, out = _summary("--loader-file", str(loader_file), "-j", "1",
                         "--expectations", str(recorded))
    assert code != 0 and "state-leak" not in recorded.read_text(), out
    hostile(GROUP, "a host that leaks state, run with the expectations it wrote itself",
            "the case after each canary that saw the leak is an error (`state-leak`); "
            "`--write-expectations` does not record it, so `--expectations` still fails")


@needs_node
@pytest.mark.parametrize("host_file, selection", [
    ("node-host.yaml", []), ("node-worker-host.yaml", ["-k", "module/"])],
    ids=["vm-contexts", "worker-threads"])
def test_node_run_by_its_own_loader_as_a_host_gives_the_verdicts_of_node(tmp_path, host_file,
                                                                         selection):
    """examples/node-host.js (Node's loader, a vm context per case) and
    examples/node-worker-host.js (Node's loader, a worker thread per case) must give the
    verdicts of `--loader node` (a process per case), failures and the clauses they blame
    included. The worker host runs a part of the suite: a worker per case is slow."""
    verdicts = {}
    for name, choice in (("host", ["--loader-file", str(ROOT / "examples" / host_file)]),
                         ("command", ["--loader", "node"])):
        out = tmp_path / f"{name}.json"
        _summary(*choice, *selection, "-j", "2", "--json", str(out))
        verdicts[name] = {r["id"]: (r["outcome"], r["kind"], tuple(r["blame"]))
                          for r in map(json.loads, out.read_text().splitlines()) if "id" in r}
    assert verdicts["host"] == verdicts["command"]
    assert len(verdicts["host"]) >= 15
    assert ("fail", "assertion-failed", ("module.id.top-level",)) in verdicts["host"].values()


@needs_node
def test_a_host_killed_twenty_times_in_a_run_loses_only_the_cases_it_was_running():
    import random

    from conformance.caseload import default_root, find
    from conformance.run import run_cases

    suite = find(default_root())
    loader_file = ROOT / "examples" / "node-host.yaml"
    clean_loader = from_file(loader_file)
    try:
        clean = [(v.case, v.outcome, v.kind) for v in run_cases(suite, clean_loader, "1.1.1")]
    finally:
        clean_loader.close()
    ran = [i for i, (_, outcome, _) in enumerate(clean) if outcome.value != "skip"]
    chosen = set(random.Random(12).sample(ran[:-1], 20))
    loader = from_file(loader_file)
    killed = pending = 0

    def kill_host(verdict) -> None:
        """At each chosen case, kill the host (at the next case, if none runs just then)."""
        nonlocal killed, pending
        pending += len(seen) in chosen
        hosts = list(loader.pool.idle) + _busy(loader)
        if pending and hosts:
            for channel in hosts:
                os.kill(channel.proc.pid, 9)
            killed += 1
            pending -= 1

    seen: list = []
    try:
        for verdict in run_cases(suite, loader, "1.1.1", on_verdict=kill_host):
            seen.append((verdict.case, verdict.outcome, verdict.kind))
    finally:
        loader.close()
    assert killed == 20
    assert [case for case, _, _ in seen] == [case for case, _, _ in clean]
    lost = [(a, b) for a, b in zip(seen, clean) if a != b]
    assert all(kind.value == "loader-crashed" for (_, _, kind), _ in lost), lost
    assert 1 <= len(lost) <= 20


def _busy(loader: HostLoader) -> list:
    """The loader's channels that are running now (tracked, not idle)."""
    import gc

    from conformance.transport import Channel
    return [o for o in gc.get_objects() if isinstance(o, Channel) and o.usable()
            and o not in loader.pool.idle]
