"""Every process one loader run starts, found and killed however it left the loader's group.

A loader command runs in a process group of its own, and the group is killed when the run ends.
A descendant can leave the group (setsid, setpgid) and shed its environment (`env -i`), so
four further means find what is left, each where the machine offers it:

- the environment mark (`RUN_MARK`), inherited unless the environment is replaced;
- a cgroup of the run's own (Linux, where a cgroup hierarchy is writable): nothing a process
  does takes it out of its cgroup, so this one is exact;
- the holders of the run's stdout and stderr pipes, found through /proc/*/fd;
- where there is no cgroup, the runner is a child subreaper (prctl PR_SET_CHILD_SUBREAPER): an
  orphaned descendant becomes the runner's child, and is killed once no other loader command
  runs (the runner cannot tell which of several runs it came from), and at exit at the latest.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import multiprocessing
import os
import secrets
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

#: The environment variable that marks every process of one loader run.
RUN_MARK = "COMMONJS_CONFORMANCE_RUN"
#: Name prefix of the cgroups this suite creates, one per loader run.
CGROUP_PREFIX = "commonjs-conformance-"
#: Seconds to wait for a killed cgroup to empty before removing it.
CGROUP_EMPTY_SECONDS = 2.0

#: prctl(2) options (Linux).
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


@functools.cache
def prctl() -> Callable[..., int] | None:
    """libc's prctl(option, arg2, arg3, arg4, arg5), or None where there is none (not Linux)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    function.restype = ctypes.c_int
    return function


def kill_group(pid: int) -> None:
    """SIGKILL to the process group `pid` leads, if it is still there."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
    except OSError:
        return None
    return text[text.rindex(b")") + 2:].decode("ascii", "replace").split()


def _kill_each(pids: Iterable[int]) -> bool:
    """SIGKILL to each pid; whether any was sent."""
    sent = False
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            sent = True
        except OSError:
            continue
    return sent


def _rounds(find: Callable[[], list[int]]) -> None:
    """Kill what `find` finds, again while it finds something: one that forked while being
    killed is found in the next round."""
    for _ in range(3):
        if not _kill_each(find()):
            return


def _marked(mark: bytes) -> list[int]:
    found = []
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                if mark in environ.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def _holding(inodes: set[int]) -> list[int]:
    """Processes other than this one with an open descriptor on one of the pipes `inodes`."""
    wanted = {f"pipe:[{inode}]" for inode in inodes}
    found = []
    me = os.getpid()
    for pid in _pids():
        if pid == me:
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    found.append(pid)
                    break
            except OSError:
                continue
    return found


# --- cgroups -----------------------------------------------------------------------------------

def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, file system type, options) of each cgroup mount, from mountinfo."""
    found = []
    try:
        with open("/proc/self/mountinfo") as info:
            lines = info.read().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((fields[4].replace("\\040", " "), tail[0], set(tail[2].split(","))))
    return found


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per hierarchy: '' for cgroup2, else its controller list."""
    found = {}
    try:
        with open("/proc/self/cgroup") as groups:
            for line in groups.read().splitlines():
                _, controllers, path = line.split(":", 2)
                found[controllers] = path
    except (OSError, ValueError):
        pass
    return found


def _candidates() -> list[tuple[Path, bool]]:
    """Where this process may create a cgroup: (directory, whether it is cgroup2)."""
    own = _own_cgroups()
    found = []
    for point, kind, options in _mounts():
        if kind == "cgroup2" and "" in own:
            found.append((Path(point) / own[""].lstrip("/"), True))
        elif kind == "cgroup":
            for controllers, path in own.items():
                names = set(controllers.split(","))
                if names & {"pids", "freezer"} and names <= options:
                    found.append((Path(point) / path.lstrip("/"), False))
    found.sort(key=lambda item: not item[1])  # cgroup2 first: it kills a whole group at once
    return found


def _remove_stale(parent: Path) -> None:
    """Remove the cgroups left by runs of a runner that is gone (killed with SIGKILL), killing
    first what still runs in them."""
    try:
        entries = [p for p in parent.iterdir() if p.name.startswith(CGROUP_PREFIX)]
    except OSError:
        return
    for entry in entries:
        owner = entry.name[len(CGROUP_PREFIX):].split("-")[0]
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            stale = Cgroup.__new__(Cgroup)
            stale.path, stale.v2, stale.procs = entry, False, str(entry / "cgroup.procs")
            stale.kill()


@functools.cache
def cgroup_parent() -> tuple[Path, bool] | None:
    """A cgroup directory this process can create cgroups in and move processes into, or None;
    stale cgroups of earlier runners found there are removed."""
    for parent, v2 in _candidates():
        probe = parent / f"{CGROUP_PREFIX}probe-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            probe.mkdir()
        except OSError:
            continue
        try:
            usable = (probe / "cgroup.procs").exists() and (not v2 or (probe / "cgroup.kill")
                                                            .exists())
        finally:
            try:
                probe.rmdir()
            except OSError:
                pass
        if usable:
            _remove_stale(parent)
            return parent, v2
    return None


_PENDING_RMDIR: list[Path] = []


def _remove_cgroup(path: Path) -> bool:
    try:
        path.rmdir()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


@atexit.register
def _remove_pending() -> None:
    """Remove the cgroups that were still busy when their run ended."""
    for path in list(_PENDING_RMDIR):
        if _remove_cgroup(path):
            _PENDING_RMDIR.remove(path)


class Cgroup:
    """One loader run's own cgroup: the loader joins it before exec; kill() ends all in it."""

    def __init__(self, parent: Path, v2: bool):
        self.path = parent / f"{CGROUP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        self.v2 = v2
        self.path.mkdir()
        self.procs = str(self.path / "cgroup.procs")

    def join(self) -> None:
        """Move the calling process into the cgroup (called in the child, before exec)."""
        fd = os.open(self.procs, os.O_WRONLY)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)

    def members(self) -> list[int]:
        try:
            with open(self.procs) as procs:
                return [int(line) for line in procs.read().split()]
        except (OSError, ValueError):
            return []

    def kill(self) -> None:
        """Kill every process in the cgroup, wait for it to empty, and remove it."""
        if self.v2:
            try:
                with open(self.path / "cgroup.kill", "w") as kill:
                    kill.write("1")
            except OSError:
                _rounds(self.members)
        else:
            _rounds(self.members)
        deadline = time.monotonic() + CGROUP_EMPTY_SECONDS
        while self.members() and time.monotonic() < deadline:
            _kill_each(self.members())
            time.sleep(0.01)
        if not _remove_cgroup(self.path):
            _PENDING_RMDIR.append(self.path)


# --- the subreaper, where there is no cgroup ------------------------------------------------------

_LOCK = threading.Lock()
_ACTIVE: set[int] = set()  # pids of the per-case loader commands running now
_OURS: set[int] = set()  # pids of every process this one started and has not yet ended
_SINCE: list[int] = []  # start time (clock ticks after boot) of the first run this process made
_REAPER = False


def _become_subreaper() -> bool:
    global _REAPER
    if not _REAPER:
        call = prctl()
        if call is not None and call(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0:
            _REAPER = True
            atexit.register(sweep_orphans)
    return _REAPER


def _started(pid: int) -> int | None:
    fields = _stat(pid)
    try:
        return int(fields[19]) if fields else None
    except (IndexError, ValueError):
        return None


def _child_of(pid: int, parent: int) -> bool:
    """Whether pid runs (not a zombie) as a child of parent."""
    fields = _stat(pid)
    return bool(fields) and fields[0] not in ("Z", "X") and fields[1] == str(parent)


def sweep_orphans() -> None:
    """Kill and reap the orphaned descendants of loader runs that have become this process's
    children: those started after the first loader run that this process did not start itself
    (a loader, a host, a QuickJS worker, a multiprocessing worker). Does nothing while a
    per-case loader command runs: an orphan cannot be told to be its."""
    me = os.getpid()
    with _LOCK:
        # a run that ended without saying so (its thread was stopped) holds nothing up
        _ACTIVE.intersection_update(p for p in _ACTIVE if _child_of(p, me))
        if not _REAPER or _ACTIVE or not _SINCE:
            return
        since = _SINCE[0]
        ours = set(_OURS)
    own = ours | {p.pid for p in multiprocessing.active_children()}

    def orphans() -> list[int]:
        found = []
        for pid in _pids():
            fields = _stat(pid)
            if (fields and fields[1] == str(me) and pid not in own
                    and (_started(pid) or 0) >= since):
                found.append(pid)
        return found

    victims = orphans()
    _rounds(lambda: victims + [p for p in orphans() if p not in victims])
    for pid in victims:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


# --- one run ------------------------------------------------------------------------------------

class Descendants:
    """The processes of one loader run: set up before it starts, all killed when it ends."""

    def __init__(self, subreaper: bool = True, long_lived: bool = False):
        self.token = secrets.token_hex(8)
        place = cgroup_parent()
        self.cgroup: Cgroup | None = None
        if place is not None:
            try:
                self.cgroup = Cgroup(*place)
            except OSError:
                self.cgroup = None
        self.subreaper = self.cgroup is None and subreaper and _become_subreaper()
        self.leader: int | None = None
        #: A process that serves case after case (a host, a QuickJS worker): while it idles,
        #: it does not keep the sweep of orphans waiting.
        self.long_lived = long_lived

    @property
    def env(self) -> dict[str, str]:
        """What the loader's environment gets, so that its descendants can be found."""
        return {RUN_MARK: self.token}

    def preexec(self) -> Callable[[], None]:
        """The child's set-up before exec: killed when the thread that started it ends (on
        Linux: prctl(PR_SET_PDEATHSIG); that thread waits for the loader, so it outlives it),
        and in the run's cgroup."""
        call = prctl()
        parent = os.getpid()
        cgroup = self.cgroup

        def setup() -> None:
            if call is not None:
                call(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the runner died before the line above
                os._exit(127)
            if cgroup is not None:
                try:
                    cgroup.join()
                except OSError:
                    pass

        return setup

    def started(self, pid: int) -> None:
        """The loader runs as `pid`, which leads its process group."""
        self.leader = pid
        with _LOCK:
            _OURS.add(pid)
            if not self.long_lived:
                _ACTIVE.add(pid)
            if not _SINCE:
                started = _started(pid)
                if started is not None:
                    _SINCE.append(started)

    def kill(self) -> None:
        """Kill the loader's group, its cgroup, and every process that carries the mark."""
        if self.leader is not None:
            kill_group(self.leader)
        if self.cgroup is not None:
            self.cgroup.kill()
        _rounds(lambda: _marked(f"{RUN_MARK}={self.token}".encode()))

    def kill_pipe_holders(self, descriptors: Iterable[int]) -> None:
        """Kill the processes still holding the run's output pipes (they left every other
        trace behind); only worth its scan of /proc when a pipe has not closed."""
        inodes = set()
        for fd in descriptors:
            try:
                inodes.add(os.fstat(fd).st_ino)
            except OSError:
                continue
        if not inodes:
            return
        # A process seen twice 50 ms apart: not a loader of another run caught between its
        # fork and the exec that closes what it inherited.
        first = set(_holding(inodes))
        if first:
            time.sleep(0.05)
            _rounds(lambda: [pid for pid in _holding(inodes) if pid in first])

    def finished(self) -> None:
        """The loader has been waited for: sweep what it orphaned, if no other run is on."""
        with _LOCK:
            _ACTIVE.discard(self.leader)
            _OURS.discard(self.leader)
        if _REAPER:  # orphans of any run come to this process, whether this run needed it
            sweep_orphans()
