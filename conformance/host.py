"""A loader run as a host: one long-lived process that takes case after case as JSON lines.

The host protocol (docs/host-protocol.md, schemas in conformance/schema/host-*.schema.json):
the host writes a hello line, then answers each request line (a program: its modules, main
id, sandbox, time limit) with a reply line (what the program printed, its exit code). The
runner alone keeps time and judges: a host that hangs, dies, floods or breaks the protocol is
killed with all it started, the case gets the verdict a command loader would get, and the
next case goes to a fresh host.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shlex
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from conformance.contract import Capabilities, Declaration, Ending, Execution, Program
from conformance.command import OUTPUT_LIMIT, PLACEHOLDERS, parse_template
from conformance.schemas import problem
from conformance.transport import (DIED, FLOODED, GARBLED, STUCK, Broken, Channel, Exchange,
                                   Pool, StartError, pipeline)

PROTOCOL = "commonjs-conformance-host"
#: The protocol version this runner speaks.
VERSION = 1
#: Seconds a host may take from its start to its hello line.
START_SECONDS = 30.0
#: Bytes of one line from a host at most: both outputs at their limit, every character escaped.
LINE_LIMIT = 2 * 6 * OUTPUT_LIMIT + (64 << 10)


class HostLoader:
    """A loader that is a long-lived host process speaking the host protocol."""

    def __init__(self, template: str, *, name: str | None = None,
                 declaration: Declaration = Declaration(),
                 env: Mapping[str, str] | None = None, source: Path | None = None):
        self.argv = parse_template(template)
        used = [p for p in PLACEHOLDERS if any(f"{{{p}}}" in word for word in self.argv)]
        if used:
            raise ValueError(f"a host's command takes no {{{used[0]}}}: the modules come in "
                             "each request")
        self.template = template
        self.name = name or Path(self.argv[0]).name
        self.declaration = declaration
        self.env = dict(env or {})
        self.pool = Pool(self._start)
        self.canaries = Canaries()
        # run() waits on a host (-j N: N hosts, one case each at a time); run_all pipelines. A
        # kept tree is rerun through `exec` with the loader file, where there is one.
        rerun = ("python", "runner.py", "exec", "{root}", "{main}", "--loader-file",
                 str(source)) if source is not None else ()
        self.capabilities = Capabilities(waits_on_process=True, pipelines=True, rerun=rerun)

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    def _start(self) -> Channel:
        """A new host that has said hello (StartError when it did not)."""
        channel = Channel(self.argv, {**os.environ, **self.env}, Path.cwd(), LINE_LIMIT)
        hello = channel.receive(time.monotonic() + START_SECONDS)
        if isinstance(hello, Broken):
            why = {STUCK: f"no hello line within {START_SECONDS:g} s", DIED: "it ended",
                   FLOODED: "its first line was too long", GARBLED: "its first line"}[hello.why]
            raise StartError(f"{why}{': ' + hello.detail if hello.detail else ''}")
        wrong = problem("host-hello", hello)
        if wrong is None and hello["version"] != VERSION:
            wrong = (f"it speaks version {hello['version']} of the host protocol; this runner "
                     f"speaks {VERSION}")
        if wrong is not None:
            channel.kill()
            raise StartError(f"its hello line is wrong: {wrong}")
        channel.state.update(next_id=1, waiting=deque())
        return channel

    def run(self, program: Program) -> Execution:
        (execution,) = self.run_all([program])
        return execution

    def run_all(self, programs: Iterable[Program]) -> Iterator[Execution]:
        """Execution of each program in turn, through one host, the next sent ahead; with a
        canary program before the first and every CANARY_EVERY-th (see Canaries)."""
        jobs: deque[Program] = deque()

        def interleaved() -> Iterator[Program]:
            for program in programs:
                if self.canaries.due():
                    jobs.append(self.canaries.program(program.timeout))
                    yield jobs[-1]
                jobs.append(program)
                yield program

        leak = ""
        for execution in pipeline(interleaved(), self.pool, _Exchange(self), self._unavailable):
            job = jobs.popleft()
            if isinstance(job, CanaryProgram):
                leak = self.canaries.judge(job, execution) or leak
                continue
            if leak:
                execution = dataclasses.replace(
                    execution, leak=leak,
                    diagnostic=f"{execution.diagnostic}; the host carried state from an "
                               f"earlier case into this one: {leak}")
                leak = ""
            yield execution

    def _unavailable(self, program: Program, error: StartError) -> Execution:
        return Execution(stdout="", ending=Ending.UNAVAILABLE, exit_code=None,
                         diagnostic=f"the host did not start: {error}; command: {self.command}")

    def close(self) -> None:
        """Stop the idle hosts."""
        self.pool.close()


#: Programs between two canaries on one host loader.
CANARY_EVERY = 8
#: The canary's main module: it prints what it finds (the global object's property names, the
#: core prototypes' property names, and the token of a module the host may have cached), then
#: leaves a mark of each kind for the next canary to find. Plain ES5.
CANARY_MAIN = """\
var write = (typeof print === 'function') ? print : function (line) { console.log(line); };
var global = (function () { return this; })();
function names(o) {
    try { return Object.getOwnPropertyNames(o).sort(); } catch (e) { return ['?']; }
}
var protos = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
var seen = {token: require('canaryCached').token, globals: global ? names(global) : [],
            prototypes: []};
for (var i = 0; i < protos.length; i++) { seen.prototypes.push(names(protos[i])); }
write('CANARY ' + JSON.stringify(seen));
var mark = 'commonjsConformanceCanary' + seen.token;
if (global) { global[mark] = true; }
for (var j = 0; j < protos.length; j++) {
    try { Object.defineProperty(protos[j], mark, {value: true, configurable: true}); }
    catch (e) {}
}
"""
PROTOTYPES = ("Object.prototype", "Array.prototype", "Function.prototype", "String.prototype")


@dataclasses.dataclass(frozen=True)
class CanaryProgram(Program):
    """A canary run between the real programs, with the token its cached module exports."""

    token: str = ""


class Canaries:
    """Canary programs interleaved with the real ones, to see state a host carries from one
    program to the next: a global left behind, a prototype changed, a module served from a
    cache. The first canary a fresh host runs gives the baseline; every later canary must find
    the same globals and prototypes, and its own module."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.baseline: dict[str, Any] | None = None
        #: Tokens of the canaries that were a fresh host's first request.
        self.fresh: set[str] = set()
        #: Every leak seen, in one line each.
        self.leaks: list[str] = []

    def due(self) -> bool:
        with self.lock:
            self.count += 1
            return self.count % CANARY_EVERY == 1

    def program(self, timeout: float) -> CanaryProgram:
        token = secrets.token_hex(6)
        main = f"canaryMain{token}"  # a main of its own, so that a cache cannot skip it
        return CanaryProgram(name="canary", main=main, timeout=timeout, token=token,
                             modules={main: CANARY_MAIN,
                                      "canaryCached": f"exports.token = '{token}';\n"})

    def judge(self, canary: CanaryProgram, execution: Execution) -> str:
        """What the canary found carried over, in one line ("" when nothing)."""
        seen = None
        for line in execution.stdout.splitlines():
            if line.startswith("CANARY "):
                try:
                    seen = json.loads(line[len("CANARY "):])
                except ValueError:
                    pass
        if not isinstance(seen, dict) or not all(k in seen for k in ("token", "globals",
                                                                     "prototypes")):
            return ""  # a canary that did not run tells nothing (its own case says why)
        with self.lock:
            if canary.token in self.fresh and self.baseline is None:
                self.baseline = seen
            baseline = self.baseline
        found = []
        if seen["token"] != canary.token:
            found.append("require() returned a module an earlier case loaded (a module cache "
                         "kept from one case to the next)")
        if baseline is not None and seen is not baseline:
            extra = sorted(set(seen["globals"]) - set(baseline["globals"]))
            if extra:
                found.append(f"globals an earlier case set: {', '.join(extra[:8])}"
                             + (" ..." if len(extra) > 8 else ""))
            for name, now, then in zip(PROTOTYPES, seen["prototypes"], baseline["prototypes"]):
                added = sorted(set(now) - set(then))
                if added:
                    found.append(f"{name} keeps {', '.join(added[:4])}"
                                 + (" ..." if len(added) > 4 else ""))
        leak = "; ".join(found)
        if leak:
            with self.lock:
                self.leaks.append(leak)
        return leak


class _Exchange(Exchange[Program, Execution]):
    def __init__(self, loader: HostLoader):
        self.loader = loader

    def messages(self, channel: Channel, program: Program) -> list[Mapping[str, Any]]:
        return [{"type": "run", "id": channel.state["next_id"], "case": program.name,
                 "modules": dict(program.modules), "main": program.main,
                 "sandbox": self.loader.declaration.sandbox, "timeout": program.timeout}]

    def sent(self, channel: Channel, program: Program) -> None:
        if isinstance(program, CanaryProgram) and channel.state["next_id"] == 1:
            with self.loader.canaries.lock:
                self.loader.canaries.fresh.add(program.token)
        channel.state["waiting"].append(channel.state["next_id"])
        channel.state["next_id"] += 1

    def limit(self, program: Program) -> float:
        return program.timeout

    def reply(self, channel: Channel, program: Program, message: dict[str, Any],
              seconds: float) -> Execution | Broken:
        expected = channel.state["waiting"].popleft()
        wrong = problem("host-reply", message)
        if wrong is None and message["id"] != expected:
            wrong = f"the reply is to request {message['id']}, not {expected}"
        if wrong is not None:
            return Broken(GARBLED, f"a reply that breaks the protocol ({wrong})")
        out, err = message["stdout"], message["stderr"]
        cut = len(out) > OUTPUT_LIMIT or len(err) > OUTPUT_LIMIT
        notes = ["the host dropped output beyond its own limit"] if message.get("truncated") \
            else []
        if cut:
            notes.append(f"output beyond {OUTPUT_LIMIT} characters was dropped")
        code = message["exit_code"]
        return Execution(out[:OUTPUT_LIMIT], err[:OUTPUT_LIMIT], Ending.EXITED, code, seconds,
                         "; ".join([f"exit status {code}; host: {self.loader.command}"] + notes),
                         truncated=cut or bool(message.get("truncated")))

    def broken(self, channel: Channel, program: Program, broken: Broken,
               seconds: float) -> Execution:
        host = f"host: {self.loader.command}"
        fresh = "a fresh host takes the next case"
        if broken.why == STUCK:
            return Execution(stdout="", ending=Ending.TIMED_OUT, exit_code=None, seconds=seconds,
                             diagnostic=f"killed after {program.timeout:g} s (the host was "
                                        f"killed; {fresh}); {host}")
        if broken.why == FLOODED:
            return Execution(stdout="", ending=Ending.EXITED, exit_code=None, seconds=seconds,
                             truncated=True,
                             diagnostic=f"stopped at the output limit: the host wrote "
                                        f"{broken.detail} (it was killed; {fresh}); {host}")
        if broken.why == DIED:
            what = f"the host died while running the case ({broken.detail})"
        else:
            what = f"the host broke the protocol: {broken.detail} (it was killed)"
        return Execution(stdout="", ending=Ending.CRASHED, exit_code=None, seconds=seconds,
                         diagnostic=f"{what}; {fresh}; {host}")
