"""Confined runs: what a case program on a loader command can reach of the user's machine."""

import json
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import confine
from conformance.contract import Program
from conformance.command import CommandLoader
from conformance.registry import LoaderError, from_options

PY = shlex.quote(sys.executable)
GROUP = "A case is data, never code on the user's machine"
ROOT = Path(__file__).resolve().parent.parent

needs_bwrap = pytest.mark.skipif(confine.bwrap() is None,
                                 reason="bwrap is not installed or cannot run here")


def program(timeout: float = 20.0) -> Program:
    return Program(name="area/case", modules={"program": "x"}, main="program", timeout=timeout)


def probe(script: str, **kw) -> CommandLoader:
    """A confined loader that is a Python script run on {root}; it prints a JSON report."""
    return CommandLoader(f"{PY} -c {shlex.quote(script)} {{root}}", confined=True, **kw)


def report(loader: CommandLoader) -> dict:
    execution = loader.run(program())
    assert execution.exit_code == 0, execution.stderr
    return json.loads(execution.stdout)


WHERE = """
import json, os, sys
print(json.dumps({"home": os.environ.get("HOME"), "tmp": os.environ.get("TMPDIR"),
                  "cwd": os.getcwd(), "root": sys.argv[1], "env": sorted(os.environ)}))
"""


@pytest.mark.parametrize("with_bwrap", [False, True], ids=["environment", "bwrap"])
def test_a_confined_loader_gets_a_clean_environment_and_private_home_and_directory(
        monkeypatch, with_bwrap):
    if with_bwrap and confine.bwrap() is None:
        pytest.skip("bwrap is not installed or cannot run here")
    if not with_bwrap:
        monkeypatch.setattr(confine, "bwrap", lambda: None)
    monkeypatch.setenv("USER_SECRET_TOKEN", "do-not-leak")
    seen = report(probe(WHERE, env={"LOADER_OWN": "{root}"}))
    # the case's temporary directory is written {root}/.. in what the loader printed
    assert (seen["home"], seen["tmp"], seen["cwd"]) == ("{root}/../home", "{root}/../tmp",
                                                        "{root}/../work")
    assert "USER_SECRET_TOKEN" not in seen["env"]
    assert "LOADER_OWN" in seen["env"] and "PATH" in seen["env"]
    assert set(seen["env"]) <= set(confine.KEPT_VARIABLES) | {
        "HOME", "TMPDIR", "LOADER_OWN", "COMMONJS_CONFORMANCE_RUN",
        "COMMONJS_CONFORMANCE_LOADERS", "PWD", "LC_CTYPE", "SHLVL", "_"}


def test_an_unconfined_loader_runs_where_the_suite_was_started(monkeypatch):
    monkeypatch.setenv("USER_SECRET_TOKEN", "still-there")
    loader = probe(WHERE)
    loader.confined = False
    seen = report(loader)
    assert seen["cwd"] == str(Path.cwd()) and "USER_SECRET_TOKEN" in seen["env"]


VANDAL = """
import json, os, socket, sys
target, port = TARGET, int(sys.argv[2])
found = {}
for name, attempt in [
        ("read", lambda: open(os.path.join(target, "secret.txt")).read()),
        ("write", lambda: open(os.path.join(target, "planted.txt"), "w").write("x")),
        ("delete", lambda: os.remove(os.path.join(target, "secret.txt"))),
        ("cwd-write", lambda: open(os.path.join(sys.argv[3], "planted.txt"), "w").write("x")),
        ("network", lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close()),
        ("own-dir", lambda: open(os.path.join(sys.argv[1], "own.txt"), "w").write("x"))]:
    try:
        attempt()
        found[name] = "done"
    except OSError as exc:
        found[name] = type(exc).__name__
print(json.dumps(found))
"""


@needs_bwrap
def test_with_bwrap_a_program_can_touch_nothing_outside_its_case_directory(
        tmp_path, monkeypatch, hostile):
    user_files = tmp_path / "user"
    user_files.mkdir()
    (user_files / "secret.txt").write_text("the user's")
    suite_dir = tmp_path / "suite"
    suite_dir.mkdir()
    monkeypatch.chdir(suite_dir)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        # the user's directory is not named in the command (what it names is shown read-only)
        script = VANDAL.replace("TARGET", repr(str(user_files)))
        loader = CommandLoader(f"{PY} -c {shlex.quote(script)} {{root}} {port} "
                               f"{shlex.quote(str(suite_dir))}", confined=True)
        seen = report(loader)
    assert seen["own-dir"] == "done"
    for attempt in ("read", "write", "delete", "cwd-write", "network"):
        assert seen[attempt] != "done", (attempt, seen)
    assert (user_files / "secret.txt").read_text() == "the user's"
    assert sorted(p.name for p in user_files.iterdir()) == ["secret.txt"]
    assert list(suite_dir.iterdir()) == []
    hostile(GROUP, "with `--confine`, a case program that reads, overwrites and deletes the "
                   "user's files, writes into the directory the suite runs from and opens a "
                   "network connection",
            "with bwrap: every attempt fails (" + ", ".join(
                f"{k}: {seen[k]}" for k in ("read", "write", "delete", "cwd-write", "network"))
            + "); writing in its own case directory works")


@needs_bwrap
def test_with_bwrap_a_program_cannot_signal_the_users_processes(tmp_path):
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        script = ("import os, signal, sys\n"
                  "try:\n    os.kill(int(sys.argv[2]), signal.SIGKILL); print('killed')\n"
                  "except OSError as exc:\n    print(type(exc).__name__)\n")
        loader = CommandLoader(f"{PY} -c {shlex.quote(script)} {{root}} {victim.pid}",
                               confined=True)
        execution = loader.run(program())
        assert execution.stdout.strip() == "ProcessLookupError"
        assert victim.poll() is None
    finally:
        victim.kill()
        victim.wait()


@needs_bwrap
def test_node_confined_passes_what_it_passes_unconfined():
    if not __import__("shutil").which("node"):
        pytest.skip("node is not installed")
    counts = {}
    for extra in ([], ["--confine"]):
        run = subprocess.run([sys.executable, str(ROOT / "runner.py"), "--loader", "node",
                              "-k", "cycles", "-j", "2", *extra],
                             capture_output=True, text=True, timeout=300)
        counts[bool(extra)] = run.stdout.strip().splitlines()[-1].split(" in ")[0]
        if extra:
            assert "confined: bwrap" in run.stdout
    assert counts[False] == counts[True] and "passed" in counts[True]


def test_confine_goes_with_loader_commands_only():
    with pytest.raises(LoaderError, match="--confine goes with a loader command"):
        from_options(loader="reference", confine=True)
    chosen = from_options(loader_cmd=f"{PY} x.py {{root}}", confine=True)
    assert chosen.confined and chosen.declaration.confinement == confine.level()


def test_the_help_of_cases_warns_that_programs_run_with_the_users_rights():
    run = subprocess.run([sys.executable, str(ROOT / "runner.py"), "run", "--help"],
                         capture_output=True, text=True, timeout=60)
    flat = " ".join(run.stdout.split())
    assert "runs with your rights" in flat and "--confine" in flat


def test_a_relative_path_in_a_confined_command_is_taken_from_where_the_suite_runs(
        tmp_path, monkeypatch):
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "where.py").write_text(WHERE)
    (tmp_path / "program").write_text("a file named like the main module's id")
    monkeypatch.chdir(tmp_path)
    loader = CommandLoader(f"{PY} tools/where.py {{root}} {{main}}", confined=True)
    argv, _ = loader.command_for(Path("/r"), "program")
    assert argv[1:] == [str(tmp_path / "tools" / "where.py"), "/r", "program"]
    seen = report(loader)
    assert seen["cwd"] == "{root}/../work"
