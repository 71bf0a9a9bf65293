#!/usr/bin/env python3
"""What running a loader as a host saves: the whole suite on Node as a command (a process per
case) and on the Node host of examples/node-host.js (one process), per case and as a ratio.

    python bench/hosts.py [-j N] [--repeat R]

Prints figures only; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from conformance.caseload import default_root, find  # noqa: E402
from conformance.registry import from_file, resolve  # noqa: E402
from conformance.run import run_cases  # noqa: E402


def timed(loader, suite, jobs: int) -> tuple[float, int]:
    started = time.perf_counter()
    verdicts = list(run_cases(suite, loader, "1.1.1", 10.0, None, jobs))
    return time.perf_counter() - started, sum(v.outcome.value == "pass" for v in verdicts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", "--jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("node") is None:
        print("node is not installed: nothing to measure")
        return 0
    suite = find(default_root())
    print(f"{len(suite)} cases, -j {args.jobs}, best of {args.repeat}")
    figures = {}
    for name, make in (("node (command)", lambda: resolve("node")),
                       ("node-host (host)", lambda: from_file(HERE / "examples/node-host.yaml"))):
        loader = make()
        runs = [timed(loader, suite, args.jobs) for _ in range(args.repeat)]
        getattr(loader, "close", lambda: None)()
        best = min(seconds for seconds, _ in runs)
        figures[name] = best
        print(f"  {name:18} {best:7.2f} s  {1000 * best / len(suite):7.1f} ms per case  "
              f"(median {statistics.median(s for s, _ in runs):.2f} s; {runs[0][1]} passed)")
    command, host = figures.values()
    print(f"  the host takes {host / command:.3f} of the command's time "
          f"({command / host:.1f} times faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
