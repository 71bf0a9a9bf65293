"""What runs now, so that a stopped run ends it: loader commands, hosts, QuickJS workers.

Every process a run starts is tracked while it works for a case; stopping the run (Ctrl-C,
the end of a parallel run) kills every tracked process group, and a process started by a
thread of a run already stopped is killed the moment it is tracked.
"""

from __future__ import annotations

import threading
from typing import Callable

from conformance.descendants import kill_group

#: Process groups of the commands, hosts and busy QuickJS workers running now, so that a stopped run can
#: end them.
_RUNNING: set[int] = set()
_RUNNING_LOCK = threading.Lock()
#: Per thread: the Event that stops the run this thread works for (see run_under).
_local = threading.local()


def run_under(stop: threading.Event, call: Callable, *args):
    """call(*args) in this thread with `stop` as the event that ends its run: a process it
    starts once `stop` is set is killed as soon as it is tracked (see track)."""
    _local.stop = stop
    try:
        return call(*args)
    finally:
        _local.stop = None


def track(pid: int) -> None:
    """Count process group `pid` among those running now; kill it at once if this thread's run
    has been stopped (it started too late to be seen by stop_running_commands)."""
    with _RUNNING_LOCK:
        _RUNNING.add(pid)
        stop = getattr(_local, "stop", None)
        doomed = stop is not None and stop.is_set()
    if doomed:
        kill_group(pid)


def untrack(pid: int) -> None:
    with _RUNNING_LOCK:
        _RUNNING.discard(pid)


def stop_running_commands(stop: threading.Event | None = None) -> None:
    """Kill every loader command and busy QuickJS worker still running (their runs then clean
    up as usual); with `stop`, set it first, so that what its threads start later dies too."""
    if stop is not None:
        stop.set()
    with _RUNNING_LOCK:
        groups = list(_RUNNING)
    for pid in groups:
        kill_group(pid)
