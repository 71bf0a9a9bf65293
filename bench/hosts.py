#!/usr/bin/env python3
"""What running a loader as a host saves, as ratios measured in one run: the whole suite on
Node as a command (a process per case); on Node's own loader as a host, a vm context per case
(examples/node-host.js), at -j 1 and -j 2; on Node's own loader in a worker thread per case
(examples/node-worker-host.js); on the loader of examples/vm-host.js; and the floor: the same
programs run by node-host.js's runProgram in one Node process, without the runner. Two
floors side by side against one show what the machine allows -j 2 at most.

    python bench/hosts.py [--repeat R]     (R runs of each, median; default 7)

Prints figures only; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from conformance.caseload import default_root, find  # noqa: E402
from conformance.harness import new_key  # noqa: E402
from conformance.registry import from_file, resolve  # noqa: E402
from conformance.run import not_applicable, prepare, run_cases  # noqa: E402

SPEC = "1.1.1"
#: The targets the figures are held to.
HOST_VS_COMMAND = 10.0
TWO_JOBS = 1.7
HOST_VS_FLOOR = 3.0

FLOOR = """
const {runProgram} = require(process.argv[1]);
const programs = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
for (const p of programs) runProgram(p);  // once to warm up, as a long-lived host is
const started = process.hrtime.bigint();
for (const p of programs) runProgram(p);
console.log(Number(process.hrtime.bigint() - started) / 1e9);
"""


def median(loader, suite, jobs: int, repeat: int) -> float:
    """Median seconds of `repeat` runs of the suite, after one untimed run that starts the
    loader's processes (a host is started once per run)."""
    for _ in run_cases(suite, loader, SPEC, 10.0, None, jobs):
        pass
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in run_cases(suite, loader, SPEC, 10.0, None, jobs):
            pass
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def floor(suite, host, repeat: int, side_by_side: int = 1) -> float:
    """Seconds node-host.js's runProgram takes over the programs the host runs, in one
    process; with side_by_side > 1, the wall time of that many such processes at once."""
    programs = []
    for index, case in enumerate(suite):
        if not not_applicable(case, host, SPEC, host.declaration.features):
            program = prepare(case, 10.0, new_key())
            programs.append({"id": index + 1, "case": case.id, "modules": dict(program.modules),
                             "main": program.main, "sandbox": False, "timeout": 10.0})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        json.dump(programs, out)
    try:
        runs = []
        for _ in range(repeat):
            processes = [subprocess.Popen(["node", "-e", FLOOR, str(HERE / "examples/node-host.js"),
                                           out.name], stdout=subprocess.PIPE, text=True)
                         for _ in range(side_by_side)]
            figures = [float(p.communicate(timeout=600)[0]) for p in processes]
            # Each process times its own timed pass; side by side, the passes overlap and the
            # longest is the time the pair took.
            runs.append(max(figures))
    finally:
        Path(out.name).unlink()
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("node") is None:
        print("node is not installed: nothing to measure")
        return 0
    suite = find(default_root())
    suite.check()  # as the command line does before it runs anything (untimed: the same for all)
    host_file = HERE / "examples/node-host.yaml"
    figures = {}
    for name, make, jobs in (
            ("node, a process per case, -j 1", lambda: resolve("node"), 1),
            ("node-worker-host, -j 1", lambda: from_file(HERE / "examples/node-worker-host.yaml"),
             1),
            ("node-host, -j 1", lambda: from_file(host_file), 1),
            ("node-host, -j 2", lambda: from_file(host_file), 2),
            ("vm-host, -j 1", lambda: from_file(HERE / "examples/vm-host.yaml"), 1)):
        loader = make()
        try:
            # A process per case gains nothing from warming up and takes 20 s a run.
            figures[name] = median(loader, suite, jobs,
                                   args.repeat if "host" in name else min(args.repeat, 2))
        finally:
            getattr(loader, "close", lambda: None)()
    figures["floor: runProgram in one process"] = floor(suite, from_file(host_file),
                                                        args.repeat)
    figures["two floors side by side"] = floor(suite, from_file(host_file), args.repeat, 2)
    count = len(suite)
    print(f"{count} cases (Modules/{SPEC}), median of {args.repeat} after a warm-up run:")
    for name, seconds in figures.items():
        print(f"  {name:36} {seconds:7.2f} s  {1000 * seconds / count:7.2f} ms per case")
    command, worker, host, host2, _, bare, pair = figures.values()
    ratios = [
        ("node-host against node as a command, -j 1", command / host, HOST_VS_COMMAND, True),
        ("node-host at -j 2 against -j 1", host / host2, TWO_JOBS, True),
        ("node-host against the floor", host / bare, HOST_VS_FLOOR, False),
        ("node-worker-host against node as a command, -j 1", command / worker, None, True),
        ("two floors side by side against one (what -j 2 can reach here)", 2 * bare / pair,
         None, True)]
    for what, ratio, target, faster in ratios:
        if target is None:
            print(f"  {what}: {ratio:.1f}x faster")
        elif faster:
            print(f"  {what}: {ratio:.1f}x faster (target: at least {target:g}x) "
                  f"{'PASS' if ratio >= target else 'MISS'}")
        else:
            print(f"  {what}: {ratio:.1f}x the floor's time (target: at most {target:g}x) "
                  f"{'PASS' if ratio <= target else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
