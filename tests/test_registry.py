"""Choosing a loader: names, shipped profiles, loader files, templates, Python classes."""

import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from conformance.command import CommandLoader
from conformance.registry import LoaderError, LoaderFileError, from_file, from_options, resolve
from conformance.reference import ReferenceLoader
from tests.test_cli import results_of

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
MINI = "node examples/mini-loader.js {root} {main}"


def loader_file(tmp_path, text):
    path = tmp_path / "loader.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_reference_names_and_sandbox_option():
    assert resolve("reference").name == "reference"
    assert from_options(sandbox=True).declaration.sandbox
    assert isinstance(resolve("conformance.reference:ReferenceLoader"), ReferenceLoader)
    assert resolve("variant:no-main").name == "variant:no-main"
    with pytest.raises(LoaderError, match="unknown loader 'nope'.*node.*rhino"):
        resolve("nope")
    with pytest.raises(LoaderError, match="unknown mutant"):
        resolve("mutant:nope")
    with pytest.raises(LoaderError, match="ModuleNotFoundError"):
        resolve("no_such_package:Loader")
    with pytest.raises(LoaderError, match="the class Program, which has no run"):
        resolve("conformance.contract:Program")


@needs_node
def test_shipped_profiles_are_loader_files():
    node = resolve("node")
    assert isinstance(node, CommandLoader) and node.env == {"NODE_PATH": "{root}"}
    assert node.name == "node" and not node.declaration.sandbox


def test_loader_file_declares_everything(tmp_path):
    path = loader_file(tmp_path, f"""\
        name: mine
        command: {sys.executable} -c 'print(1)' {{root}} {{main}}
        env: {{HOME_OF_MINE: "{{root}}/x"}}
        sandbox: true
        spec: "1.1"
        timeout: 7.5
        features: {{require.paths: false}}
        """)
    loader = from_file(path)
    assert loader.name == "mine" and loader.env == {"HOME_OF_MINE": "{root}/x"}
    d = loader.declaration
    assert (d.sandbox, d.spec, d.timeout, dict(d.features)) == (True, "1.1", 7.5,
                                                                {"require.paths": False})


@pytest.mark.parametrize("text, line, field, words", [
    ("name: x\n", 1, "", "'command' must be a non-empty string"),
    ("name: x\ncommand: ls\ncolour: red\n", 3, "colour", "unknown key"),
    ("name: x\ncommand: ls\nsandbox: maybe\n", 3, "sandbox", "true or false"),
    ("name: x\ncommand: ls\nspec: 1.1\n", 3, "spec", "quoted"),
    ("name: x\ncommand: ls\ntimeout: -1\n", 3, "timeout", "from 0.1 to 86400 seconds, not -1"),
    ("name: x\ncommand: ls\ntimeout: .nan\n", 3, "timeout", "must be finite, not nan"),
    ("name: x\ncommand: ls\ntimeout: .inf\n", 3, "timeout", "must be finite, not inf"),
    ("name: x\ncommand: ls\nenv: {A: 1}\n", 3, "env", "strings"),
    ("name: x\ncommand: ls\nfeatures: {require.nope: true}\n", 3, "features", "require.main"),
    ("name: x\ncommand: ls {nope}\n", 2, "command", "unknown placeholder"),
    ("name: x\ncommand: no-such-loader-here {root}\ninstall: get it from the shop\n", 2,
     "command", "not found on PATH (get it from the shop)"),
    ("- a list\n", 1, "", "mapping"),
])
def test_bad_loader_file_is_one_line_naming_the_field(tmp_path, text, line, field, words):
    path = loader_file(tmp_path, text)
    with pytest.raises(LoaderFileError) as error:
        from_file(path)
    message = str(error.value)
    assert "\n" not in message and f"loader.yaml:{line}:" in message and words in message
    assert error.value.field == field


def test_loader_options_are_checked():
    with pytest.raises(LoaderError, match="choose one of"):
        from_options(loader="reference", loader_cmd="node {main_file}")
    with pytest.raises(LoaderError, match="go with --loader-cmd"):
        from_options(loader_name="x")
    with pytest.raises(LoaderError, match="--sandbox goes with"):
        from_options(loader="variant:no-main", sandbox=True)
    with pytest.raises(LoaderError, match="KEY=VALUE"):
        from_options(loader_cmd=f"{sys.executable} -c 1", env=["novalue"])
    with pytest.raises(LoaderError, match="not found on PATH"):
        from_options(loader_cmd="no-such-loader-here {root}")


def run(repo, *args, **kw):
    return subprocess.run([sys.executable, "runner.py", *args], cwd=repo, capture_output=True,
                          text=True, timeout=600, **kw)


@needs_node
def test_a_loader_given_only_as_a_template_is_certified(repo, tmp_path):
    out = tmp_path / "r.json"
    proc = run(repo, "--loader-cmd", MINI, "--loader-name", "mini", "--json", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:]
    data = results_of(out)
    assert data["loader"] == "mini" and data["sandbox"] is False
    assert {c["outcome"] for c in data["cases"]} == {"pass", "skip"}
    sandboxed = run(repo, "--loader-cmd", MINI.replace("js {root}", "js --sandbox {root}"),
                    "--sandbox", "--json", str(out))
    assert sandboxed.returncode == 0, sandboxed.stdout[-3000:]
    assert results_of(out)["sandbox"] is True


def test_an_installed_package_registers_a_loader_by_entry_point(repo, tmp_path):
    dist = tmp_path / "myloader-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myloader\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[commonjs_conformance.loaders]\nmine = myloader:make\n")
    (tmp_path / "myloader.py").write_text(textwrap.dedent("""\
        from conformance.reference import ReferenceLoader
        def make():
            return ReferenceLoader(name="mine")
        """))
    out = tmp_path / "r.json"
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    proc = run(repo, "--loader", "mine", "-k", "cycles", "--json", str(out), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results_of(out)["loader"] == "mine"


@needs_node
def test_exec_runs_a_tree_on_any_loader(repo, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "x.js").write_text("exports.v = 7;\n")
    (tmp_path / "program.js").write_text("print('v', require('lib/x').v);\n")
    for args in (["--loader-cmd", MINI], ["--loader", "reference"], ["--sandbox"],
                 ["--loader", "conformance.reference:ReferenceLoader"]):
        proc = run(repo, "exec", str(tmp_path), "program", *args)
        assert (proc.returncode, proc.stdout) == (0, "v 7\n"), (args, proc.stderr)
    (tmp_path / "program.js").write_text("require('nothing');\n")
    proc = run(repo, "exec", str(tmp_path), "program", "--loader-cmd", MINI)
    assert proc.returncode == 1 and "cannot find module 'nothing'" in proc.stderr


@needs_node
def test_keep_failed_keeps_the_tree_and_the_exact_command(repo, tmp_path):
    kept = tmp_path / "kept"
    proc = run(repo, "--loader", "node", "-k", "module/id-main-program", "--keep-failed",
               str(kept))
    assert proc.returncode == 1
    case_dir = kept / "module" / "id-main-program"
    assert (case_dir / "program.js").is_file() and (case_dir / "conformanceHarness.js").is_file()
    assert "fail: assertion " in (case_dir / "verdict.txt").read_text()
    assert "blames: module.id.top-level" in (case_dir / "verdict.txt").read_text()
    rerun = subprocess.run(["sh", str(case_dir / "rerun.sh")], capture_output=True, text=True,
                           timeout=60)
    assert re.search(r"^FAIL \d+ ", rerun.stdout, re.M)  # the kept command reproduces the failure by hand


@pytest.mark.parametrize("key", ["-i", "A B", "1A", "A;B"])
def test_an_environment_variable_name_is_letters_digits_and_underscores(tmp_path, key):
    with pytest.raises(LoaderError, match="--env takes KEY=VALUE"):
        from_options(loader_cmd="node {main_file}", env=[f"{key}=1"])
    path = tmp_path / "loader.yaml"
    path.write_text(f"name: x\ncommand: node {{main_file}}\nenv:\n  {key!r}: '1'\n")
    with pytest.raises(LoaderFileError, match=r"loader\.yaml:4: env\.|variable name"):
        from_file(path)
