"""The QuickJS worker: a child process that runs the reference loader's programs sent to it.

Running QuickJS out of the runner's process means nothing it does can hang or crash the run:
a program stuck in native code (a backtracking regular expression) escapes QuickJS's CPU
limit, and some out-of-memory paths recurse in QuickJS's own code; the parent then kills this
process and starts another. Messages are length-prefixed pickles on stdin and stdout.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
import threading
import time
from typing import IO, Any

HEADER = struct.Struct(">I")
#: Seconds between two looks at whether the runner is still this process's parent.
WATCH_INTERVAL = 0.2


def encode(message: Any) -> bytes:
    """A message as it travels: its length, then its pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def send(stream: IO[bytes], message: Any) -> None:
    stream.write(encode(message))
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """Answer ('source', id, text) by remembering the loader source and compiling it, ('run',
    id, ...) (see process.Job) with the Execution; return when the parent closes the pipe.
    Runs on a big stack (see __main__)."""
    from conformance.reference.compiled import compile_loader

    sources: dict[str, tuple[str, Any]] = {}
    while True:
        header = _read_exactly(requests, HEADER.size)
        if header is None:
            return
        body = _read_exactly(requests, HEADER.unpack(header)[0])
        if body is None:
            return
        message = pickle.loads(body)
        if message[0] == "source":
            sources[message[1]] = (message[2], compile_loader(message[2]))
            continue
        _, source_id, *job = message
        send(replies, run(*sources[source_id], *job))


def run(js_source: str, compiled: Any, text: str, timeout: float, memory: int, stack: int,
        output_limit: int, harness_key: str | None) -> Any:
    """The Execution of one job (see process.Job) with what was compiled for its loader
    (compiled.Compiled, or None): the loader and, if the job carries the helper, its factory
    with the job's key."""
    from conformance import reference

    factory = compiled.harness_factory(harness_key) if compiled and harness_key else None
    return reference.execute(js_source, text, timeout, memory, stack, output_limit,
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
    from conformance.reference import on_big_stack

    if len(sys.argv) > 1:
        watch_parent(int(sys.argv[1]))

    # The whole loop runs on the big-stack thread, so no program pays a hop to it.
    on_big_stack(lambda: serve(sys.stdin.buffer, sys.stdout.buffer))
