"""The benchmark script keeps running and printing its figures (it asserts no speed: that
would be a timed test; the figures are for people and REPORT.md)."""

import json
import os
import subprocess
import sys

from conformance.caseload import default_root, discover


def test_the_benchmark_runs_and_prints_and_records_every_target(repo, tmp_path):
    figures = tmp_path / "figures.json"
    proc = subprocess.run([sys.executable, "bench/benchmark.py", "--quick", "--no-node",
                           "--no-scaling", "--no-user", "--json", str(figures)], cwd=repo,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "command: " in out and "ratio reference -j 1 / floor" in out
    assert "bytecode  = loader.js and the harness helper run from bytecode" in out
    assert "target: reference at most 4x the floor per case" in out
    assert "target: at least 2,500 reference cases per second on one core" in out
    # Every case of the suite, and nothing but passes.
    cases = len(discover(default_root()))
    assert f"outcomes of the reference run: pass {cases}\n" in out.replace(",", "")
    assert "CPU per case on one core (median): runner" in out
    recorded = json.loads(figures.read_text())
    assert recorded["command"].startswith("python bench/benchmark.py --quick")
    assert [t["target"].split(" ")[0] for t in recorded["targets"]] == ["reference", "at"]
    for entry in recorded["targets"]:
        assert entry["measured"] and isinstance(entry["met"], bool)
        assert entry["measured"] in out


def test_the_command_line_is_measured_as_a_user_runs_it(repo, tmp_path):
    figures = tmp_path / "figures.json"
    proc = subprocess.run([sys.executable, "bench/benchmark.py", "--quick", "--no-node",
                           "--no-scaling", "--cases", "5", "--repeats", "1", "--json",
                           str(figures)], cwd=repo, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "4. As a user runs it: `runner.py --cases DIR` on the suite copied 2 times" in proc.stdout
    recorded = json.loads(figures.read_text())
    measured = [t for t in recorded["targets"] if t["target"].startswith(("-j 1", "default -j"))]
    assert [t["target"].split(":")[0] for t in measured] == [
        "-j 1, cache cold", "-j 1, cache warm", f"default -j ({os.cpu_count()}), cache cold",
        f"default -j ({os.cpu_count()}), cache warm"]
    assert set(recorded["as_a_user"]) == {t["target"].split(",")[0] + " " +
                                          t["target"].split("cache ")[1].split(":")[0]
                                          for t in measured}
