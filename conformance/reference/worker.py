"""The QuickJS worker: a child process that runs the reference loader's programs sent to it.

Running QuickJS out of the runner's process means nothing it does can hang or crash the run:
a program stuck in native code (a backtracking regular expression) escapes QuickJS's CPU
limit, and some out-of-memory paths recurse in QuickJS's own code; the parent then kills this
process and starts another (conformance.transport). Messages are JSON objects, one per line,
on stdin and stdout:

    {"type": "source", "id": ID, "text": LOADER_JS}       remember and compile a loader
    {"type": "run", "source": ID, "timeout": SECONDS, "memory_limit": BYTES,
     "stack_limit": BYTES, "output_limit": CHARACTERS, "harness_key": KEY or null,
     "input": INPUT}                                       run loader.js on INPUT

INPUT, last in its line, is loader.js's input as the JSON text it is (an object), not a string
holding it: it is read back as the text between process.RAW_INPUT and the closing brace,
neither escaped nor parsed on its way.

Each run is answered with the fields of its Execution (`ending` as its string value), each
text field at most process.FIELD_CHARS characters. Replies are pure ASCII: a lone surrogate a
program printed travels as its \\uXXXX escape, and json.loads gives it back.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import IO, Any

from conformance.reference.process import FIELD_CHARS, RAW_INPUT

#: Seconds between two looks at whether the runner is still this process's parent.
WATCH_INTERVAL = 0.2


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """Answer each 'run' message with its Execution as a line, remembering each 'source' (the
    loader, compiled); return when the parent closes the pipe. Runs on a big stack (see
    __main__)."""
    from conformance.reference.compiled import compile_loader

    sources: dict[str, tuple[str, Any]] = {}
    for line in requests:
        message = parse(line)
        if message["type"] == "source":
            sources[message["id"]] = (message["text"], compile_loader(message["text"]))
            continue
        execution = run(*sources[message["source"]], message["input"], message["timeout"],
                        message["memory_limit"], message["stack_limit"],
                        message["output_limit"], message["harness_key"])
        replies.write(encode(execution))
        replies.flush()


def parse(line: bytes) -> dict[str, Any]:
    """A message from its line; a run message's input, written as the JSON text it is (see
    process.RAW_INPUT), taken as that text."""
    head, marker, tail = line.partition(RAW_INPUT)
    if not marker:
        return json.loads(line)
    message = json.loads(head + b"}")
    tail = tail[:-1] if tail.endswith(b"\n") else tail
    message["input"] = tail[:-1].decode("utf-8", "surrogatepass")  # less the closing brace
    return message


def encode(execution: Any) -> bytes:
    """An Execution as a reply line: its fields, each text cut to FIELD_CHARS characters."""
    reply = dict(vars(execution))  # every field of the dataclass, and nothing else
    reply["ending"] = execution.ending.value
    if len(reply["stdout"]) > FIELD_CHARS:
        reply["stdout"] = reply["stdout"][:FIELD_CHARS]
        reply["truncated"] = True
    if len(reply["stderr"]) > FIELD_CHARS:
        reply["stderr"] = (reply["stderr"][:FIELD_CHARS] + "\nreference loader: stderr beyond "
                           f"{FIELD_CHARS} characters was dropped\n")
    if len(reply["diagnostic"]) > FIELD_CHARS:
        reply["diagnostic"] = reply["diagnostic"][:FIELD_CHARS] + " ..."
    return json.dumps(reply, ensure_ascii=True).encode("ascii") + b"\n"


def run(js_source: str, compiled: Any, text: str, timeout: float, memory: int, stack: int,
        output_limit: int, harness_key: str | None) -> Any:
    """The Execution of one job (see process.Job) with what was compiled for its loader
    (compiled.Compiled, or None): the loader and, if the job carries the helper, its factory
    with the job's key."""
    from conformance.reference import engine

    factory = compiled.harness_factory(harness_key) if compiled and harness_key else None
    return engine.execute(js_source, text, timeout, memory, stack, output_limit,
                             loader_bytecode=compiled.loader if compiled else None,
                             factories=(factory,) if factory else ())


def watch_parent(parent: int) -> None:
    """End this process as soon as `parent` (the runner) is no longer its parent: killed, even
    with SIGKILL, the runner cannot end a worker stuck in native code, where no read of the
    closed pipe ever happens. QuickJS releases the GIL while it runs, so this thread runs."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_INTERVAL)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


if __name__ == "__main__":
    from conformance.reference.engine import on_big_stack

    if len(sys.argv) > 1:
        watch_parent(int(sys.argv[1]))

    # The whole loop runs on the big-stack thread, so no program pays a hop to it.
    on_big_stack(lambda: serve(sys.stdin.buffer, sys.stdout.buffer))
