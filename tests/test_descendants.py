"""Finding and killing every process of one loader run, however it left the loader's group."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance import descendants
from conformance.descendants import CGROUP_PREFIX, Cgroup, Descendants
from tests.test_misbehaving_loaders import alive

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="reads /proc (Linux)")
needs_cgroup = pytest.mark.skipif(descendants.cgroup_parent() is None,
                                  reason="no writable cgroup hierarchy here")

#: A child that leaves its session and sheds its environment, then sleeps; it prints its pid.
ESCAPER = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    print(os.getpid(), flush=True)
    os.execve(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)"], {})
time.sleep(0.5)
"""


def gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def start(family: Descendants, script: str) -> tuple[subprocess.Popen, int]:
    """The script run as a loader of `family`; the pid its escaping child printed."""
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, **family.env},
                            stdout=subprocess.PIPE, start_new_session=True,
                            preexec_fn=family.preexec())
    family.started(proc.pid)
    child = int(proc.stdout.readline())
    return proc, child


@needs_cgroup
def test_a_run_in_its_own_cgroup_loses_every_process_even_one_without_the_mark():
    family = Descendants()
    assert family.cgroup is not None
    proc, child = start(family, ESCAPER)
    proc.wait()
    assert alive(child) and child in family.cgroup.members()
    family.kill()
    family.finished()
    assert gone(child)
    assert not family.cgroup.path.exists(), "the run's cgroup was not removed"


def test_a_process_holding_the_runs_output_pipe_is_found_and_killed(monkeypatch):
    monkeypatch.setattr(descendants, "cgroup_parent", lambda: None)
    family = Descendants(subreaper=False)
    proc, child = start(family, ESCAPER)  # the child keeps the loader's stdout open
    proc.wait()
    family.kill()  # no cgroup, no mark on the child: it survives this
    assert alive(child)
    family.kill_pipe_holders([proc.stdout.fileno()])
    family.finished()
    assert gone(child)
    proc.stdout.close()


@needs_cgroup
def test_cgroups_a_killed_runner_left_are_emptied_and_removed_by_the_next(tmp_path):
    parent, v2 = descendants.cgroup_parent()
    stale = parent / f"{CGROUP_PREFIX}999999999-deadbeef0000"  # no such runner pid
    stale.mkdir()
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (stale / "cgroup.procs").write_text(str(victim.pid))
        descendants._remove_stale(parent)
        assert victim.wait(timeout=10) == -signal.SIGKILL
        assert not stale.exists()
    finally:
        if victim.poll() is None:
            victim.kill()
        if stale.exists():
            stale.rmdir()


def test_a_cgroup_is_found_only_where_one_can_be_made(monkeypatch):
    monkeypatch.setattr(descendants, "_candidates", lambda: [(Path("/proc"), True)])
    descendants.cgroup_parent.cache_clear()
    try:
        assert descendants.cgroup_parent() is None
    finally:
        descendants.cgroup_parent.cache_clear()


def test_the_mark_finds_descendants_that_kept_their_environment(monkeypatch):
    monkeypatch.setattr(descendants, "cgroup_parent", lambda: None)
    family = Descendants(subreaper=False)
    script = ESCAPER.replace(', {})', ', dict(os.environ))')
    proc, child = start(family, script)
    proc.wait()
    proc.stdout.close()
    assert alive(child)
    family.kill()
    family.finished()
    assert gone(child)


def test_cgroup_members_of_a_removed_cgroup_are_none(tmp_path):
    group = Cgroup.__new__(Cgroup)
    group.path, group.v2, group.procs = tmp_path / "x", True, str(tmp_path / "x" / "procs")
    assert group.members() == []


def test_without_a_cgroup_the_sweep_spares_the_processes_the_runner_started(monkeypatch):
    """A host or QuickJS worker idling between cases is the runner's own child, not an orphan
    of a loader: the subreaper's sweep leaves it, and kills the orphan."""
    if descendants.prctl() is None:
        pytest.skip("no prctl")
    monkeypatch.setattr(descendants, "cgroup_parent", lambda: None)
    monkeypatch.setattr(descendants, "_REAPER", descendants._REAPER)
    try:
        server = Descendants(long_lived=True)
        idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                env={**os.environ, **server.env}, start_new_session=True)
        server.started(idle.pid)
        family = Descendants()
        assert family.subreaper
        proc, child = start(family, ESCAPER.replace(', {})', ', {"X": "1"})'))
        proc.wait()
        proc.stdout.close()
        family.kill()
        family.finished()  # the sweep: the orphan goes, the idle server stays
        assert gone(child)
        assert idle.poll() is None
        server.kill()
        assert idle.wait(timeout=10) == -signal.SIGKILL  # waited for before it is finished
        server.finished()
    finally:
        descendants.prctl()(descendants.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
