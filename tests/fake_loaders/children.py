"""A loader that exits at once but leaves processes running, each pid recorded (see _fake).

    children.py ignore-term ROOT MAIN   a child starts a grandchild that ignores SIGTERM, SIGHUP
                                        and SIGINT and keeps the loader's stdout and stderr open
    children.py daemon ROOT MAIN        a daemon-like double fork (chdir /, umask 0, output to
                                        /dev/null) that stays in the loader's session and group
    children.py new-group ROOT MAIN     a child that moves to a process group of its own in the
                                        same session (as a shell's job control does)
    children.py new-session ROOT MAIN   a child that calls setsid(), a session and group of its own
    children.py new-session-holding-stdout ROOT MAIN
                                        the same, keeping the loader's stdout open
    children.py clean-env ROOT MAIN     a child that calls setsid() and execs with an empty
                                        environment (as `setsid env -i` does)
    children.py clean-env-holding-stdout ROOT MAIN
                                        the same, keeping the loader's stdout open
    children.py clean-env-writer ROOT MAIN
                                        the same, and a second after the loader ended it
                                        recreates ROOT and writes a file into it

The loader itself prints one line (no harness line) and exits 0.
"""

import os
import signal
import sys
import time

from _fake import LIFETIME, args, detach_output, record_pid, say

mode = args()[0]


def linger(record: bool = True) -> None:
    if record:
        record_pid("child")
    deadline = time.monotonic() + LIFETIME
    while time.monotonic() < deadline:
        time.sleep(0.2)
    os._exit(0)


if mode == "ignore-term":
    if os.fork() == 0:
        if os.fork() == 0:
            for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                signal.signal(number, signal.SIG_IGN)
            linger()
        time.sleep(LIFETIME)
        os._exit(0)
elif mode == "daemon":
    if os.fork() == 0:
        if os.fork() == 0:
            os.chdir("/")
            os.umask(0)
            detach_output()
            linger()
        os._exit(0)  # the middle process exits: the daemon is orphaned
elif mode in ("new-group", "new-session", "new-session-holding-stdout"):
    ready_r, ready_w = os.pipe()
    if os.fork() == 0:
        os.close(ready_r)
        if mode == "new-group":
            os.setpgid(0, 0)
        else:
            os.setsid()
        if mode == "new-session-holding-stdout":
            stdout = os.dup(1)
            detach_output()
            os.dup2(stdout, 1)
            os.close(stdout)
        else:
            detach_output()
        record_pid("child")
        os.write(ready_w, b"x")
        os.close(ready_w)
        linger(record=False)
    os.close(ready_w)
    os.read(ready_r, 1)  # exit only once the child has left the group and recorded its pid
elif mode in ("clean-env", "clean-env-holding-stdout", "clean-env-writer"):
    ready_r, ready_w = os.pipe()
    if os.fork() == 0:
        os.close(ready_r)
        os.setsid()
        if mode != "clean-env-holding-stdout":
            detach_output()
        record_pid("child")  # the pid stays the same through the exec below
        os.write(ready_w, b"x")
        os.close(ready_w)
        after = ["write-later", sys.argv[2]] if mode == "clean-env-writer" else ["linger"]
        os.execve(sys.executable, [sys.executable, __file__, "exec-clean"] + after, {})
    os.close(ready_w)
    os.read(ready_r, 1)
elif mode == "exec-clean":  # the child above, after its exec, with no environment at all
    if sys.argv[2] == "write-later":
        time.sleep(1.0)
        os.makedirs(sys.argv[3], exist_ok=True)
        with open(os.path.join(sys.argv[3], "written-by-an-escaped-child"), "w") as out:
            out.write("x")
    linger(record=False)
else:
    sys.exit(f"children.py: unknown mode {mode}")
time.sleep(0.2)  # let the processes started above record their pids
say(f"fake loader {os.getpid()}: helpers started")
sys.exit(0)
