"""The gallery's loaders (docs/gallery.md): their files, their drivers, and a run on each."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conformance.registry import from_file, shipped

GALLERY = ["bun", "deno", "dukpy", "pythonmonkey", "pyduktape2", "esbuild", "webpack"]
#: The gallery's loaders whose main module does not get module.id "program" (docs/gallery.md).
MAIN_ID_WRONG = {"bun", "deno", "dukpy", "pythonmonkey", "esbuild", "webpack"}


def driver(name, root, env=None):
    """Run a gallery driver on the module tree at root, main module `program`."""
    return subprocess.run([sys.executable, "-m", f"conformance.drivers.{name}", str(root),
                           "program"], capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture
def hello(tmp_path):
    """A module tree whose main module prints one line through require."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "program.js").write_text(
        "var write = typeof print === 'function' ? print : console.log;\n"
        "write('hello ' + require('greeting').word);\n")
    (root / "greeting.js").write_text("exports.word = 'gallery';\n")
    return root


def require_engine(name, root):
    """Skip, with the driver's message, where the engine is not installed."""
    proc = driver(name, root)
    if proc.returncode == 3:
        pytest.skip(proc.stderr.strip())
    return proc


def run(repo, tmp_path, name, selection):
    """The suite's results for the selected cases on a gallery loader, by case id."""
    out = tmp_path / f"{name}.json"
    proc = subprocess.run([sys.executable, "runner.py", "--loader", name, "-k", selection,
                           "--json", str(out)], cwd=repo, capture_output=True, text=True,
                          timeout=900)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return proc, {row["id"]: row for row in rows if "outcome" in row}


@pytest.mark.parametrize("name", GALLERY)
def test_loader_file_is_shipped_with_its_install_hint(name):
    path = shipped()[name]
    data = yaml.safe_load(path.read_text())
    assert data["name"] == name
    assert data["command"].startswith(f"python3 -m conformance.drivers.{name} ")
    assert "scripts/install-loaders" in data["install"]
    assert path.read_text().startswith("# ")
    assert from_file(path).name == name


@pytest.mark.parametrize("name", GALLERY)
def test_driver_without_its_engine_exits_3_naming_the_script(name, hello, tmp_path):
    empty = tmp_path / "no-loaders"
    empty.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "COMMONJS_CONFORMANCE_LOADERS": str(empty),
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = driver(name, hello, env)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert f"scripts/install-loaders {name}" in proc.stderr and str(empty) in proc.stderr


@pytest.mark.parametrize("name", GALLERY)
def test_driver_runs_a_program_that_requires_a_module(name, hello):
    proc = require_engine(name, hello)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["hello gallery"]


@pytest.mark.parametrize("name", GALLERY)
def test_an_uncaught_error_fails_the_driver_with_the_message_on_stderr(name, hello):
    require_engine(name, hello)
    (hello / "program.js").write_text("require('greeting');\nthrow new Error('gallery boom');\n")
    proc = driver(name, hello)
    assert proc.returncode != 0
    assert "gallery boom" in proc.stderr


@pytest.mark.parametrize("name", GALLERY)
def test_every_engine_passes_the_exports_cases(repo, tmp_path, name, hello):
    require_engine(name, hello)
    proc, results = run(repo, tmp_path, name, "exports/")
    assert len(results) >= 8, proc.stdout[-2000:]
    failed = {case: row["message"] for case, row in results.items() if row["outcome"] != "pass"}
    assert not failed, proc.stdout[-3000:]
    assert proc.returncode == 0


@pytest.mark.parametrize("name", GALLERY)
def test_the_main_module_id_verdict_is_the_one_documented(repo, tmp_path, name, hello):
    require_engine(name, hello)
    proc, results = run(repo, tmp_path, name, "module/id-main-program")
    row = results["module/id-main-program"]
    assert row["outcome"] == ("fail" if name in MAIN_ID_WRONG else "pass"), row["message"]
    assert "module.id" in row["message"] or row["outcome"] == "pass"


@pytest.mark.parametrize("name", GALLERY)
def test_the_whole_suite_ends_as_the_loaders_expectations_record(repo, name, hello):
    """Each gallery loader, certified as its users would certify it: every case ends as its
    hand-checked expectation file records (each reason quoting the MUST it breaks)."""
    require_engine(name, hello)
    proc = subprocess.run([sys.executable, "runner.py", "--loader", name, "--expectations",
                           f"expectations/{name}.yaml"], cwd=repo, capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 new, 0 changed, 0 unexpected passes, 0 unknown entries" in proc.stdout


#: The gallery's engines certified on the node profile (docs/node-deviations.md), each with its
#: hand-checked known failures in expectations/node/<engine>.yaml.
PROFILE_GALLERY = ["bun", "deno", "pythonmonkey", "esbuild", "webpack"]


@pytest.mark.parametrize("name", PROFILE_GALLERY)
def test_loader_file_declares_the_node_profile(name):
    loader = from_file(shipped()[name], "node")
    assert "node" in loader.declaration.profiles
    assert "NODE_PATH" not in loader.env and "PMJS_PATH" not in loader.env


@pytest.mark.parametrize("name", PROFILE_GALLERY)
def test_driver_runs_a_profile_program_with_the_engines_own_lookup(name, hello, tmp_path):
    """A node profile program (MAIN a file path) finds a bare name in the node_modules above
    its file, and nothing through NODE_PATH, which would find the tree's other directory."""
    require_engine(name, hello)
    root = tmp_path / "tree"
    (root / "app" / "src").mkdir(parents=True)
    (root / "node_modules" / "walker").mkdir(parents=True)
    (root / "elsewhere").mkdir()
    (root / "app" / "src" / "main.js").write_text(
        "console.log(require('walker').where);\n"
        "try { require('stray'); console.log('stray found'); }\n"
        "catch (e) { console.log('stray ' + e.code); }\n")
    (root / "node_modules" / "walker" / "index.js").write_text(
        "exports.where = 'root node_modules';\n")
    (root / "elsewhere" / "stray.js").write_text("exports.x = 1;\n")
    env = dict(os.environ, NODE_PATH=str(root / "elsewhere"))
    proc = subprocess.run([sys.executable, "-m", f"conformance.drivers.{name}", str(root),
                           "app/src/main.js"], capture_output=True, text=True, timeout=120,
                          env=env)
    assert proc.stdout.splitlines()[0] == "root node_modules", proc.stderr
    assert "stray found" not in proc.stdout
    assert not (root / "node_modules" / "node_modules").exists()


@pytest.mark.parametrize("name", ["node"] + PROFILE_GALLERY)
def test_the_node_profile_ends_as_the_loaders_expectations_record(repo, name, hello):
    """Each engine on the node profile, run as its loader file says: every case ends as its
    hand-checked expectations/node/<engine>.yaml records (Node itself: no failure at all)."""
    if name != "node":
        require_engine(name, hello)
    proc = subprocess.run([sys.executable, "runner.py", "--profile", "node", "--loader", name,
                           "--expectations", f"expectations/node/{name}.yaml"], cwd=repo,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 new, 0 changed, 0 unexpected passes, 0 unknown entries" in proc.stdout
