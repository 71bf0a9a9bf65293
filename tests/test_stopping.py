"""A stopped runner leaves nothing running: Ctrl-C, SIGTERM or SIGKILL while a QuickJS worker is
stuck in native code or a loader command hangs ends those processes too.

Each test starts `runner.py` in its own session on a case directory of its own, waits until the
process it means to leave behind is there, stops the runner, and checks (with generous bounds,
never tight timings) that the process is gone.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FAKES = Path(__file__).resolve().parent / "fake_loaders"
GROUP = "Interrupted runs"
#: A regular expression that backtracks for minutes in QuickJS's native code, where its CPU
#: limit is never checked.
STUCK = "/(a+)+$/.test(new Array(40).join('a') + 'b');"
#: Bound on anything that must happen "promptly": far below the stuck worker's wall limit
#: (2 x 60 s + 1 s) and the hung loader's time limit.
PROMPT = 30.0

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="process checks read /proc (Linux)")


def stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, ..."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def alive(pid: int) -> bool:
    fields = stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def children(parent: int, marker: bytes) -> list[int]:
    """Live children of `parent` whose command line holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = stat(int(entry.name))
        if not fields or fields[0] in ("Z", "X") or int(fields[1]) != parent:
            continue
        try:
            if marker in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def until(check, within: float = PROMPT):
    """Poll `check` until it gives something true; that value, or None after `within` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    return None


def stuck_cases(tmp_path: Path, count: int) -> Path:
    root = tmp_path / "cases"
    (root / "stuck").mkdir(parents=True)
    for index in range(count):
        (root / "stuck" / f"regex{index}.yaml").write_text(
            "title: A program stuck in a backtracking regular expression\n"
            "clauses: [modules.singleton]\n"
            "modules:\n"
            "  program: |\n"
            "    var t = require('conformanceHarness').start(require);\n"
            "    t.clause('modules.singleton');\n"
            f"    {STUCK}\n"
            "    t.done();\n", encoding="utf-8")
    return root


def runner(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, "runner.py", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True,
                            env={**os.environ, "TMPDIR": str(scratch), **(env or {})})


@pytest.fixture
def leftovers():
    """Pids a test saw; whatever of them still runs at the end is killed."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def busy_workers(proc: subprocess.Popen, count: int) -> list[int]:
    """The runner's QuickJS workers, once `count` of them are there and have run a while."""
    def ready():
        found = children(proc.pid, b"conformance.reference.worker")
        return found if len(found) >= count else None
    workers = until(ready, within=120)
    if not workers:
        os.killpg(proc.pid, signal.SIGKILL)  # a run left going would load the machine
        proc.communicate()
    assert workers, "the runner never started its QuickJS workers"
    time.sleep(1.0)  # well into the stuck regular expression
    return workers


@pytest.mark.parametrize("how, jobs", [(signal.SIGINT, "1"), (signal.SIGINT, "2"),
                                       (signal.SIGTERM, "2")],
                         ids=["ctrl-c-j1", "ctrl-c-j2", "sigterm-j2"])
def test_stopping_a_run_kills_the_quickjs_workers_stuck_in_native_code(tmp_path, leftovers,
                                                                       hostile, how, jobs):
    # At -j 1 the stuck case is the last one, so no job is queued behind it on its worker.
    proc = runner(tmp_path, "--cases", str(stuck_cases(tmp_path, int(jobs))), "-j", jobs,
                  "--timeout", "60")
    workers = busy_workers(proc, int(jobs))
    leftovers.extend(workers)
    started = time.monotonic()
    os.kill(proc.pid, how)
    try:
        _, stderr = proc.communicate(timeout=PROMPT)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the runner went on for more than {PROMPT:g} s after {how.name}")
    took = time.monotonic() - started
    assert proc.returncode == 2, stderr
    assert "interrupted" in stderr
    for pid in workers:
        assert until(lambda: not alive(pid)), f"QuickJS worker {pid} outlived the run"
    hostile(GROUP, f"{how.name} at -j {jobs} while the QuickJS worker is stuck in a "
                   f"catastrophic regular expression ({STUCK[:16]}...)",
            f"exit 2 within {PROMPT:g} s (took {took:.0f} s; the worker's own wall limit is "
            "121 s); every QuickJS worker was killed, none handed back to the pool")


def test_a_runner_killed_with_sigkill_takes_its_stuck_quickjs_worker_along(tmp_path, leftovers,
                                                                           hostile):
    proc = runner(tmp_path, "--cases", str(stuck_cases(tmp_path, 1)), "-j", "1",
                  "--timeout", "60")
    workers = busy_workers(proc, 1)
    leftovers.extend(workers)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=PROMPT)
    for pid in workers:
        assert until(lambda: not alive(pid)), f"QuickJS worker {pid} outlived a killed runner"
    hostile(GROUP, "SIGKILL to the runner alone (not its group) while its QuickJS worker is "
                   "stuck in native code",
            "the worker, which watches its parent, ends within a second or so")


def test_a_runner_killed_with_sigkill_takes_its_loader_command_along(tmp_path, leftovers,
                                                                     hostile):
    pidfile = tmp_path / "pids"
    command = shlex.join([sys.executable, str(FAKES / "hang.py"), "sleep"]) + " {root} {main}"
    proc = runner(tmp_path, "--cases", str(stuck_cases(tmp_path, 1)), "--loader-cmd", command,
                  "--timeout", "60", env={"FAKE_LOADER_PIDS": str(pidfile)})

    def loader_pids():
        if not pidfile.exists():
            return None
        pids = [int(line.split()[0]) for line in pidfile.read_text().splitlines() if line]
        return [pid for pid in pids if alive(pid)] or None

    loaders = until(loader_pids, within=120)
    assert loaders, "the loader never started"
    leftovers.extend(loaders)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=PROMPT)
    for pid in loaders:
        assert until(lambda: not alive(pid)), f"loader {pid} outlived a killed runner"
    hostile(GROUP, "SIGKILL to the runner alone (not its group) while a loader command hangs",
            "the loader, started with a parent-death signal (PR_SET_PDEATHSIG), is killed with "
            "the runner")
