"""Choosing a loader: names, shipped loader files, other loader files, templates, Python classes."""

import json
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conformance.command import CommandLoader
from conformance.registry import (LoaderError, LoaderFileError, from_file, from_options, known,
                                 resolve, shipped)
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
    with pytest.raises(LoaderError, match="no module 'no_such_package' in the current "
                                          "directory"):
        resolve("no_such_package:Loader")
    with pytest.raises(LoaderError, match="the class Program, which has no run"):
        resolve("conformance.contract:Program")


@needs_node
def test_shipped_loader_files_are_resolved_by_name():
    assert {"node", "rhino", "rhino-sandbox"} <= set(shipped())
    assert all(path.suffix == ".yaml" and path.is_file() for path in shipped().values())
    assert set(shipped()) <= set(known())
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
    ("name: x\ncommand: ls\nspec: 1.1\n", 3, "spec", "quote it: spec: \"1.1\""),
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
    assert results_of(out)["loader"] == "mini-loader"  # no --loader-name: the script's stem


@pytest.mark.parametrize("template, name", [
    ("node examples/mini-loader.js {root} {main}", "mini-loader"),
    ("node --stack-size=4000 /opt/x/loader.mjs {root} {main}", "loader"),
    ("./build/my-engine run {root} {main}", "my-engine"),
    ("python3 -m my.loader {root} {main}", "my.loader"),
    ("java -jar engine.jar {root} {main}", "engine"),
    ("node {main_file}", "node"),
    ("node -e 'require(1).run()' {root}", "node"),
    ("bun run {root}/program.js", "bun"),
])
def test_a_command_without_a_name_is_named_by_its_words(template, name):
    assert CommandLoader(template).name == name


def test_the_loader_name_option_overrides_the_name_a_command_is_given():
    template = f"{sys.executable} drivers/run.py {{root}} {{main}}"
    assert from_options(loader_cmd=template).name == "run"
    assert from_options(loader_cmd=template, loader_name="mine").name == "mine"


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
                           timeout=60, cwd=tmp_path)
    assert rerun.returncode == 1, rerun.stdout[-2000:] + rerun.stderr[-2000:]  # judged again
    assert re.search(r"^FAIL \d+ ", rerun.stdout, re.M)  # with what the program printed


@pytest.mark.parametrize("key", ["-i", "A B", "1A", "A;B"])
def test_an_environment_variable_name_is_letters_digits_and_underscores(tmp_path, key):
    with pytest.raises(LoaderError, match="--env takes KEY=VALUE"):
        from_options(loader_cmd="node {main_file}", env=[f"{key}=1"])
    path = tmp_path / "loader.yaml"
    path.write_text(f"name: x\ncommand: node {{main_file}}\nenv:\n  {key!r}: '1'\n")
    with pytest.raises(LoaderFileError, match=r"loader\.yaml:4: env\.|variable name"):
        from_file(path)


# Paths in a loader file, from the file's directory ---------------------------------------------

#: A "loader" that only says which script ran and where it was started from.
WHO = "import os, sys; print('ran', sys.argv[0], 'in', os.getcwd())\n"


def test_paths_in_a_loader_file_are_taken_from_its_directory(repo, tmp_path):
    beside = tmp_path / "engine"
    (beside / "bin").mkdir(parents=True)
    (beside / "driver.py").write_text(WHO)
    (beside / "bin" / "tool.py").write_text(WHO)
    (beside / "run").write_text("not a path: a word that happens to name a file\n")
    (beside / "engine.yaml").write_text(
        f"name: e\ncommand: {sys.executable} driver.py run {{root}} {{main}}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "only-here.py").write_text(WHO)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "program.js").write_text("")
    for command, script in (
            ("driver.py run {root} {main}", beside / "driver.py"),
            ("./bin/tool.py {root}", beside / "bin" / "tool.py"),
            ("{loader_dir}/bin/tool.py {root}", beside / "bin" / "tool.py"),
            ("only-here.py {root}", "only-here.py")):  # no such file beside: from the run's
        (beside / "engine.yaml").write_text(f"name: e\ncommand: {sys.executable} {command}\n")
        loader = from_file(beside / "engine.yaml")
        assert loader.argv[1] == str(script)
        assert "run" not in loader.argv or loader.argv[2] == "run"  # a word, not made a path
        proc = subprocess.run([sys.executable, str(repo / "runner.py"), "exec", str(tree),
                               "program", "--loader-file", "../engine/engine.yaml"],
                              cwd=elsewhere, capture_output=True, text=True, timeout=60)
        assert proc.stdout == f"ran {script} in {elsewhere}\n", proc.stderr


# Python loaders: module:Class ------------------------------------------------------------------

#: A Python loader: the reference loader under another name.
PY_LOADER = """\
from conformance.reference import ReferenceLoader


class Mine(ReferenceLoader):
    def __init__(self):
        super().__init__(name="mine-py")
"""


def test_a_python_loader_is_found_from_the_current_directory(repo, tmp_path):
    (tmp_path / "mine_loader.py").write_text(PY_LOADER)
    out = tmp_path / "r.json"
    # runner.py puts its own directory on sys.path, not the current one: resolve() adds it.
    proc = subprocess.run([sys.executable, str(repo / "runner.py"), "--loader",
                           "mine_loader:Mine", "-k", "cycles", "--json", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert results_of(out)["loader"] == "mine-py"


@pytest.mark.parametrize("name, words", [
    ("nowhere_loader:Mine", "no module 'nowhere_loader' in the current directory ({here}) or on "
                            "the Python path"),
    ("mine_loader:Other", "mine_loader ({here}/mine_loader.py) has no 'Other'"),
    ("broken_loader:Mine", "importing broken_loader failed: No module named 'not_installed'"),
    ("raising_loader:Mine", "importing raising_loader raised RuntimeError: no engine here"),
    ("mine_loader:", "a Python loader is given as module:Class"),
])
def test_a_python_loader_that_cannot_be_had_is_one_line(repo, tmp_path, name, words):
    (tmp_path / "mine_loader.py").write_text(PY_LOADER)
    (tmp_path / "broken_loader.py").write_text("import not_installed\n")
    (tmp_path / "raising_loader.py").write_text("raise RuntimeError('no engine here')\n")
    proc = subprocess.run([sys.executable, str(repo / "runner.py"), "--loader", name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 4 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and words.format(here=tmp_path) in proc.stderr, \
        proc.stderr


def readme_example(repo):
    """The README's Python loader: the file, and the command line that runs it."""
    text = (repo / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(# (\w+)\.py: .*?)```\n", text, re.S)
    assert code, "the README has no Python loader example"
    after = text[code.end():]
    line = re.search(r"```sh\n(commonjs-conformance --loader .*?)(?:\s+#.*)?\n```", after)
    assert line and after.index(line.group(0)) < 40, "no command right after the example"
    return code.group(2) + ".py", code.group(1), shlex.split(line.group(1))


@needs_node
def test_the_readme_python_loader_runs_as_the_readme_shows_it(repo, tmp_path):
    name, code, words = readme_example(repo)
    (tmp_path / name).write_text(code, encoding="utf-8")
    assert words[0] == "commonjs-conformance"  # the installed script is runner.py's main()
    proc = subprocess.run([sys.executable, str(repo / "runner.py"), *words[1:]], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    closing = proc.stdout.rstrip().splitlines()[-1]
    assert re.match(r"mini-py, Modules/1\.1\.1: \d+ passed, 0 failed", closing), closing


# --- Profiles a loader runs (docs/node-profile.md) ---------------------------------------------

def test_a_loader_file_declares_its_profiles_with_their_own_command_and_env(tmp_path):
    path = loader_file(tmp_path, f"""\
        name: mine
        command: {sys.executable} -c 'print(1)' {{root}} {{main}}
        env: {{NODE_PATH: "{{root}}", KEEP: "x"}}
        profiles:
          node:
            command: {sys.executable} -c 'print(2)' {{main_file}}
            env: {{ONLY: "{{main}}"}}
        """)
    spec_run, node_run = from_file(path), from_file(path, "node")
    assert spec_run.declaration.profiles == node_run.declaration.profiles == {"node"}
    assert spec_run.env == {"NODE_PATH": "{root}", "KEEP": "x"} and "print(1)" in spec_run.argv
    assert node_run.env == {"ONLY": "{main}"} and node_run.argv[-1] == "{main_file}"
    plain = loader_file(tmp_path, f"name: plain\ncommand: {sys.executable} {{root}}\n")
    assert from_file(plain).declaration.profiles == frozenset()
    with pytest.raises(LoaderError, match="does not declare the node profile"):
        from_options(loader_file=plain, profile="node")
    assert from_options(loader_cmd=f"{sys.executable} {{main_file}}",
                        profile="node").declaration.profiles == {"node"}


@pytest.mark.parametrize("profiles, field, says", [
    ("{nodejs: {}}", "profiles", "profiles maps a profile (node)"),
    ("{node: {command: 5}}", "profiles", "profiles maps a profile (node)"),
    ("{node: {env: {1X: a}}}", "profiles.node.env.1X", "a variable name"),
    ("{node: {args: x}}", "profiles.node.args", "unknown key"),
])
def test_a_loader_file_with_bad_profiles_is_refused_in_one_line(tmp_path, profiles, field,
                                                                 says):
    path = loader_file(tmp_path, f"name: bad\ncommand: {sys.executable}\nprofiles: {profiles}\n")
    with pytest.raises(LoaderFileError) as info:
        from_file(path)
    assert info.value.field == field and says in str(info.value) and "\n" not in str(info.value)


@needs_node
def test_the_shipped_node_loader_runs_the_node_profile_without_node_path():
    node = resolve("node", "node")
    assert node.declaration.profiles == {"node"} and node.env == {}
    assert resolve("node").env == {"NODE_PATH": "{root}"}
    with pytest.raises(LoaderError, match="'rhino' does not declare the node profile"):
        from_options("rhino", profile="node")
    from conformance import clauses
    schema = json.loads((Path(clauses.__file__).parent / "schema" / "loader.schema.json")
                        .read_text())
    assert schema["properties"]["profiles"]["propertyNames"]["enum"] == list(clauses.PROFILES)
