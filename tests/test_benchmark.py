"""The benchmark script keeps running and printing its figures (it asserts no speed: that
would be a timed test; the figures are for people and REPORT.md)."""

import subprocess
import sys


def test_the_benchmark_runs_and_prints_every_target(repo):
    proc = subprocess.run([sys.executable, "bench/benchmark.py", "--quick", "--no-node",
                           "--no-scaling"], cwd=repo, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "command: " in out and "ratio reference / floor" in out
    assert "target: reference <= 4x the floor per case" in out
    assert "target: >= 2,500 cases per second on one core" in out
    assert "pass 125" in out.replace(",", "") or "outcomes of the reference run: pass" in out
