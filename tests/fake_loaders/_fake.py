"""What the fake loaders share: their command line and the pid file the tests read.

Every fake loader is run as `python FAKE.py MODE [ARG...] ROOT MAIN`. When the environment
variable FAKE_LOADER_PIDS names a file, the loader appends `PID loader` to it first thing, so a
test can check afterwards that nothing of its process group (or session) is left. Processes a
fake leaves behind on purpose append `PID child`, and never live longer than LIFETIME seconds,
so a failing test cannot leave them behind for long.
"""

import os
import sys

#: Seconds a process a fake loader leaves behind lives at most.
LIFETIME = 60

FEATURES = "FEATURES require.main=present require.paths=present module.uri=present"


def record_pid(role: str = "loader") -> None:
    path = os.environ.get("FAKE_LOADER_PIDS")
    if path:
        with open(path, "a") as out:
            out.write(f"{os.getpid()} {role}\n")


def args() -> list[str]:
    """The arguments after the script's name; the pid is recorded on the way."""
    record_pid()
    return sys.argv[1:]


def say(*lines: str, stream=None) -> None:
    stream = stream or sys.stdout
    for line in lines:
        stream.write(line + "\n")
    stream.flush()


def detach_output() -> None:
    """Point stdin, stdout and stderr at /dev/null, as a daemon does."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
