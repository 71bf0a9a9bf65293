"""Nothing lost: results stream to disk as cases finish; stopped runs say where they stopped."""

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conformance.results import read

#: A loader that takes its time over every case, so a run can be stopped half-way.
SLOW = shlex.join([sys.executable, "-c", "import time; time.sleep(0.4); print('PASS 1 x')"])


def leftovers(where=None):
    """The suite's temporary directories under `where` (default: the system's)."""
    where = where or tempfile.gettempdir()
    return {p for p in os.listdir(where) if p.startswith("cjs-conformance-")}


def runner(repo, *args, tmp=None):
    """runner.py started in its own session; with tmp, its temporary directories go there."""
    env = None if tmp is None else {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.Popen([sys.executable, "runner.py", *args], cwd=repo, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env=env)


def wait_for_verdicts(path, count, limit=60):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) > count:
            return
        time.sleep(0.05)
    pytest.fail(f"{path} did not reach {count} verdicts")


@pytest.mark.parametrize("loader", [["--loader", "reference"],
                                    ["--loader-cmd", "node examples/mini-loader.js {root} {main}"]],
                         ids=["in-process", "command"])
def test_parallel_runs_give_the_same_results_in_the_same_order(repo, tmp_path, loader):
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}.json"
        proc = subprocess.run([sys.executable, "runner.py", *loader, "-j", jobs, "-k", "i",
                               "--json", str(out), "-v"], cwd=repo, capture_output=True,
                              text=True, timeout=600)
        lines = [line.split(" (")[0] + line.split(")", 1)[-1] for line in proc.stdout.splitlines()
                 if not line.startswith(("reference,", "node examples"))]
        verdicts = [(v.case, v.outcome, v.kind, v.message) for v in read(out).verdicts]
        outputs.append((proc.returncode, lines, verdicts))
    assert outputs[0] == outputs[1]
    assert len(outputs[0][2]) > 50


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_keeps_what_ran_and_cleans_up(repo, tmp_path, how, hostile):
    scratch = tmp_path / "tmp"  # its own: other runs on the machine do not count
    scratch.mkdir()
    out = tmp_path / "r.json"
    proc = runner(repo, "--loader-cmd", SLOW, "-j", "1", "--json", str(out), tmp=scratch)
    wait_for_verdicts(out, 3)
    os.kill(proc.pid, how)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, stderr
    results = read(out)
    assert not results.complete and len(results.verdicts) >= 2
    assert results.stopped_at and results.stopped_at not in {v.case for v in results.verdicts}
    assert f"interrupted: stopped after {len(results.verdicts)} of {len(results.planned)} cases; " \
           f"the next was {results.stopped_at}" in stderr
    assert leftovers(scratch) == set()  # the running case's directory went too
    said = stderr.strip().splitlines()[-1].replace(str(out), "the results file")
    said = re.sub(r"stopped after \d+ of (\d+) cases; the next was \S+;",
                  r"stopped after N of \1 cases; the next was <the first case that did not run>;",
                  said)
    hostile("Interrupted runs", f"{how.name} to the runner while a loader command runs",
            f"exit 2; {said}; the results file reads back complete=false with every finished "
            "case; no temporary directory left")


def test_a_killed_run_leaves_a_readable_results_file(repo, tmp_path, hostile):
    out = tmp_path / "r.json"
    scratch = tmp_path / "tmp"  # a killed runner cannot remove its case directory: not in /tmp
    scratch.mkdir()
    proc = runner(repo, "--loader-cmd", SLOW, "-j", "1", "--json", str(out), tmp=scratch)
    wait_for_verdicts(out, 3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    results = read(out)
    assert not results.complete and len(results.verdicts) >= 2
    assert results.where_stopped().startswith(f"stopped after {len(results.verdicts)} of ")
    hostile("Interrupted runs", "SIGKILL to the runner and its loader mid-run",
            "the results file reads back as incomplete, with every finished case, saying "
            "'stopped after N of M cases; the next was <case>'")


def test_interrupting_a_parallel_run_ends_the_running_loaders(repo, tmp_path):
    out = tmp_path / "r.json"
    proc = runner(repo, "--loader-cmd", SLOW, "-j", "2", "--json", str(out))
    wait_for_verdicts(out, 3)
    started = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 2 and time.monotonic() - started < 15
    assert not read(out).complete


def test_a_results_file_cut_mid_line_still_reads(tmp_path):
    out = tmp_path / "r.json"
    subprocess.run([sys.executable, "runner.py", "-k", "cycles", "--json", str(out)],
                   cwd=os.path.dirname(os.path.dirname(__file__)), check=True,
                   capture_output=True)
    text = out.read_text()
    out.write_text(text[: text.rindex('{"end"') - 40])  # killed while writing a verdict line
    results = read(out)
    assert not results.complete and results.verdicts
