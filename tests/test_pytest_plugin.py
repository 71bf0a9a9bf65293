"""The pytest plugin: cases as items named by id, readable failures, one-line bad files."""

import os
import re
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_cli import BROKEN, GOOD


@pytest.fixture
def suite(pytester):
    root = pytester.path / "cases"
    for case_id, text in (("area/good", GOOD), ("area/broken", BROKEN),
                          ("area/sandboxed", GOOD + "sandbox: true\n")):
        path = root / f"{case_id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_items_are_named_by_case_id(pytester, suite):
    result = pytester.runpytest("--cases-root", str(suite), "cases", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["cases/area/broken.yaml::area/broken",
                                 "cases/area/good.yaml::area/good",
                                 "cases/area/sandboxed.yaml::area/sandboxed"])


def test_outcomes_and_failure_report(pytester, suite):
    result = pytester.runpytest("--cases-root", str(suite), "cases", "--loader", "reference",
                                "-rs")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * cases/area/sandboxed.yaml:1: not applicable: "
                                 "the case applies only to sandboxes"])
    result.stdout.fnmatch_lines([
        "*case area/broken (*broken.yaml)*",
        "*An assertion that cannot hold, to see the run fail*",
        "*clauses: require.returns-exports*",
        "*fail: assertion 1 failed: one is two: expected number 2, got number 1*",
        "*FAIL 1 one is two*",
    ])
    assert "def runtest" not in result.stdout.str()
    assert "_pytest" not in result.stdout.str()


def test_sandbox_loader_option(pytester, suite):
    result = pytester.runpytest("--cases-root", str(suite), "cases", "--loader",
                                "reference-sandbox", "-k", "sandboxed or good")
    result.assert_outcomes(passed=2)


def test_keyword_selection(pytester, suite):
    pytester.runpytest("--cases-root", str(suite), "cases", "-k", "good").assert_outcomes(passed=1)


def test_malformed_case_is_a_one_line_collection_error(pytester, suite):
    (suite / "area" / "bad.yaml").write_text("title: x\nclauses: [nope\n")
    result = pytester.runpytest("--cases-root", str(suite), "cases")
    result.stdout.fnmatch_lines(["*ERROR collecting cases/area/bad.yaml*",
                                 "*bad.yaml:*: invalid YAML*"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize("name", ["Upper.YAML", "mixed.Yml"])
def test_a_case_file_with_a_suffix_in_other_case_is_a_rename_it_collection_error(
        pytester, suite, name):
    """As the runner's discovery does: the file is refused by name, not skipped unseen."""
    stem, suffix = name.rsplit(".", 1)
    (suite / "area" / name).write_text(GOOD)
    result = pytester.runpytest("--cases-root", str(suite), "cases")
    result.stdout.fnmatch_lines([f"*ERROR collecting cases/area/{name}*",
                                 f"*{name}: a case file is named *.yaml or *.yml in lower case; "
                                 f"rename it to {stem}.{suffix.lower()} (the case id stays the "
                                 "same)*"])
    result.assert_outcomes(errors=1)  # a collection error: nothing runs, as with the runner
    assert "Traceback" not in result.stdout.str()


def test_unknown_loader_is_a_usage_error(pytester, suite):
    result = pytester.runpytest("--cases-root", str(suite), "cases", "--loader", "nonesuch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown loader 'nonesuch'*"])


def test_yaml_outside_the_cases_root_is_not_collected(pytester, suite):
    other = pytester.path / "elsewhere" / "config.yaml"
    other.parent.mkdir()
    other.write_text("key: value\n")
    result = pytester.runpytest("--cases-root", str(suite), "elsewhere")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1"])
def test_a_case_timeout_that_cannot_work_is_a_usage_error(pytester, suite, value):
    result = pytester.runpytest("--cases-root", str(suite), "cases", f"--case-timeout={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--case-timeout: a time limit*"])


# ---------------------------------------------------------------------------- --conformance


def test_conformance_collects_the_cases_root_without_a_path(pytester, suite):
    """No path on the command line: the cases under --cases-root are collected all the same,
    and nothing else (the directory pytest runs in holds a test file of its own)."""
    pytester.makepyfile(test_other="def test_other():\n    assert False\n")
    result = pytester.runpytest("--cases-root", str(suite), "--conformance", "-p",
                                "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    assert "test_other" not in result.stdout.str()


def test_conformance_with_a_path_collects_both(pytester, suite):
    pytester.makepyfile(test_other="def test_other():\n    pass\n")
    result = pytester.runpytest("--cases-root", str(suite), "--conformance", "test_other.py")
    result.assert_outcomes(passed=2, failed=1, skipped=1)


# ---------------------------------------------------------------------------- --expectations

KNOWN_BROKEN = """\
loader: reference
spec: "1.1.1"
failures:
  area/broken:
    outcome: fail
    kind: assertion-failed
    reason: one is never two here
"""


def expectations(where, text):
    path = where / "expected.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_recorded_failure_is_xfail_with_its_reason(pytester, suite):
    path = expectations(pytester.path, KNOWN_BROKEN)
    result = pytester.runpytest("--cases-root", str(suite), "cases", "--expectations",
                                str(path), "-rx")
    result.assert_outcomes(passed=1, xfailed=1, skipped=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["XFAIL *area/broken* recorded fail: one is never two here"])


@pytest.mark.parametrize("text, says", [
    (KNOWN_BROKEN.replace("area/broken", "area/good"),  # broken is not recorded
     ["*new fail: expected.yaml does not record this case*",
      "*fail: assertion 1 failed: one is two*"]),
    (KNOWN_BROKEN.replace("assertion-failed", "uncaught-error"),
     ["*changed: expected.yaml records fail (uncaught-error); now fail (assertion-failed): "
      "assertion 1 failed: one is two*"]),
], ids=["new", "changed"])
def test_a_new_or_changed_failure_fails(pytester, suite, text, says):
    path = expectations(pytester.path, text)
    result = pytester.runpytest("--cases-root", str(suite), "cases", "--expectations",
                                str(path), "-k", "broken")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(says)


def test_an_unexpected_pass_fails_and_asks_for_an_update(pytester, suite):
    path = expectations(pytester.path, KNOWN_BROKEN + "  area/good:\n    outcome: fail\n"
                                             "    kind: assertion-failed\n")
    result = pytester.runpytest("--cases-root", str(suite), "cases", "--expectations",
                                str(path), "-k", "good")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unexpected pass: expected.yaml records fail; update the "
                                 "expectations*"])


@pytest.mark.parametrize("text, words", [
    (KNOWN_BROKEN + "  area/gone:\n    outcome: fail\n    kind: assertion-failed\n",
     "expected.yaml:8: failures: 'area/gone' is no case under *; remove the entry or fix its id"),
    (KNOWN_BROKEN.replace("loader: reference", "loader: node"),
     "expected.yaml:1: loader: the expectations are for loader 'node', * 'reference'"),
    (KNOWN_BROKEN.replace('"1.1.1"', '"1.0"'),
     "expected.yaml:2: spec: the expectations are for Modules/1.0, * Modules/1.1.1"),
    (KNOWN_BROKEN.replace("outcome: fail", "outcome: pass"),
     "expected.yaml:5: failures.area/broken.outcome: 'pass' is no failure*"),
    (KNOWN_BROKEN.replace("    kind: assertion-failed\n", ""),
     "expected.yaml:*: failures.area/broken.kind: missing *re-record the file*"),
], ids=["unknown-case", "other-loader", "other-spec", "malformed", "outcome-alone"])
def test_expectations_that_do_not_fit_are_a_one_line_usage_error(pytester, suite, text, words):
    """Checked before anything runs, as the runner does (its exit 7)."""
    path = expectations(pytester.path, text)
    result = pytester.runpytest("--cases-root", str(suite), "cases", "--expectations",
                                str(path))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{words}"])
    assert "Traceback" not in result.stderr.str()
    assert "passed" not in result.stdout.str()


# ---------------------------------------------------------------------------- installed wheel

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Installed:
    """The suite built as a wheel and installed into a fresh virtual environment."""

    venv: Path
    python: Path
    #: The environment to run its commands in: its bin/ first on PATH.
    env: dict[str, str]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    """A wheel of the checkout, installed (not editable) into a virtual environment that sees
    this Python's packages (pytest, pyyaml, quickjs, jsonschema: no network needed)."""
    pytest.importorskip("hatchling", reason="pip install -e '.[test]' installs the build "
                        "backend the wheel is built with")
    where = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "-w", str(where / "dist"),
                    "--no-deps", "--no-build-isolation", "--no-index", "-q"],
                   check=True, capture_output=True, timeout=300)
    wheel, = (where / "dist").glob("commonjs_conformance-*.whl")
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(venv)], check=True, capture_output=True, timeout=300)
    python = venv / "bin" / "python"
    if sys.prefix != sys.base_prefix:
        # This Python is a venv itself: --system-site-packages reaches the base Python's
        # packages, not its own, so its own are added by path (a .pth line adds a folder).
        purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                                  "print(sysconfig.get_path('purelib'))"], check=True,
                                 capture_output=True, text=True, timeout=300).stdout.strip()
        Path(purelib, "outer-packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # The venv has no pip of its own; this Python's pip, run by the venv's Python, installs
    # into the venv (-I: even where this Python has the same version installed).
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", "-I",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    return Installed(venv, python, env)


def in_venv(installed: Installed, where: Path, *argv: str, shell: bool = False):
    """A command run in `where` (outside the checkout) with the venv's bin/ first on PATH."""
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(argv[0] if shell else list(argv), shell=shell, cwd=where,
                          env=installed.env, capture_output=True, text=True, timeout=300)


def test_the_wheel_is_what_runs(installed, tmp_path):
    """The package imported in the venv is the installed copy, not the checkout."""
    proc = in_venv(installed, tmp_path, str(installed.python), "-c",
                   "import conformance; print(conformance.__file__)")
    assert proc.stdout.startswith(str(installed.venv)), proc.stdout + proc.stderr


def test_the_pytest_route_from_the_installed_wheel(installed, tmp_path):
    """`pytest --conformance` runs the installed suite's cases: no path into site-packages."""
    proc = in_venv(installed, tmp_path, str(installed.python), "-m", "pytest", "-p",
                   "no:cacheprovider", "--conformance", "--loader", "reference", "-k", "cycles",
                   "-q")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) >= 8, proc.stdout[-2000:]
    assert "failed" not in proc.stdout


def test_expectations_from_the_installed_wheel(installed, tmp_path):
    cases = tmp_path / "cases"
    for case_id, text in (("area/good", GOOD), ("area/broken", BROKEN)):
        (cases / "area").mkdir(parents=True, exist_ok=True)
        (cases / f"{case_id}.yaml").write_text(text)
    known = expectations(tmp_path, KNOWN_BROKEN)
    proc = in_venv(installed, tmp_path / "run", str(installed.python), "-m", "pytest", "-p",
                   "no:cacheprovider", "--conformance", "--cases-root", str(cases),
                   "--expectations", str(known), "-rx")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "1 passed, 1 xfailed" in proc.stdout
    assert "recorded fail: one is never two here" in proc.stdout


def _verdicts(stdout: str) -> list[str]:
    """Each item's `OUTCOME nodeid` line of a run with -rA, sorted."""
    return sorted(line for line in stdout.splitlines()
                  if line.startswith(("PASSED ", "FAILED ", "SKIPPED ", "XFAIL ", "ERROR ")))


def test_the_pytest_route_in_parallel_gives_the_same_verdicts(installed, tmp_path):
    """With pytest-xdist: each item runs its case itself, so two workers give the verdicts of
    one process (skipped where xdist is not installed; it is no dependency of the suite)."""
    pytest.importorskip("xdist", reason="pytest-xdist is not installed")
    argv = [str(installed.python), "-m", "pytest", "-p", "no:cacheprovider", "--conformance",
            "--loader", "reference", "-k", "cycles or context", "-rA"]
    one = in_venv(installed, tmp_path / "one", *argv)
    two = in_venv(installed, tmp_path / "two", *argv, "-n", "2")
    assert one.returncode == two.returncode == 0, two.stdout[-3000:] + two.stderr[-3000:]
    assert "2 workers" in two.stdout
    assert _verdicts(one.stdout) == _verdicts(two.stdout) != []


def _first_certify_command() -> str:
    """The README's first command of 'Certify your loader' that runs a loader command."""
    section = README.split("## Certify your loader", 1)[1]
    return next(line for line in section.splitlines()
                if line.startswith("commonjs-conformance --loader-cmd"))


def test_the_readmes_first_certify_command_works_after_a_plain_install(installed, tmp_path):
    """Run from a directory with no examples/ in it: the examples travel with the package."""
    if shutil.which("node") is None:
        pytest.skip("the README's first certify command runs Node")
    command = _first_certify_command()
    proc = in_venv(installed, tmp_path, command + " -k cycles", shell=True)
    assert proc.returncode == 0, command + "\n" + proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"mini, Modules/1\.1\.1: \d+ passed, 0 failed", proc.stdout), proc.stdout


def test_the_shipped_examples_are_found_in_the_installed_wheel(installed, tmp_path, repo):
    proc = in_venv(installed, tmp_path, str(installed.python), "-m", "conformance.examples")
    shipped = Path(proc.stdout.strip())
    assert shipped.is_relative_to(installed.venv), proc.stdout + proc.stderr
    assert sorted(p.name for p in shipped.iterdir()) == \
        sorted(p.name for p in (repo / "examples").iterdir() if p.is_file())


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_loader_without_an_optional_feature_gets_the_command_lines_verdicts(pytester, tmp_path):
    """Node has no require.paths: the command line probes that and finds the cases needing it
    not applicable; so must the pytest route, not fail them."""
    import json

    from conformance.cli import main

    out = tmp_path / "r.json"
    main(["--loader", "node", "-k", "paths/", "--json", str(out)])
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    outcomes = [line["outcome"] for line in lines if "outcome" in line]
    assert outcomes and "skip" in outcomes
    result = pytester.runpytest("--conformance", "--loader", "node", "-k", "paths/", "-p",
                                "no:cacheprovider")
    result.assert_outcomes(passed=outcomes.count("pass"), skipped=outcomes.count("skip"))


@pytest.fixture
def with_profile(suite, repo):
    """The small suite, plus two cases of the node profile (copied from the suite's own)."""
    for name in ("exports/replace-with-object", "exports/replace-with-function"):
        target = suite / "node" / f"{name}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo / "cases" / "node" / f"{name}.yaml", target)
    return suite


def test_the_profile_s_cases_are_collected_only_with_profile(pytester, with_profile):
    default = pytester.runpytest("--cases-root", str(with_profile), "cases", "--collect-only",
                                 "-q")
    assert "node/" not in default.stdout.str() and "area/good" in default.stdout.str()
    profile = pytester.runpytest("--cases-root", str(with_profile), "cases", "--profile", "node",
                                 "--loader", "node", "-v")
    profile.assert_outcomes(passed=2)
    assert "area/good" not in profile.stdout.str()
    profile.stdout.fnmatch_lines(["*node/exports/replace-with-object PASSED*"])


def test_profile_with_spec_or_an_undeclared_profile_is_a_usage_error(pytester, with_profile):
    both = pytester.runpytest("--cases-root", str(with_profile), "cases", "--profile", "node",
                              "--spec", "1.0")
    assert both.ret == pytest.ExitCode.USAGE_ERROR
    both.stderr.fnmatch_lines(["*--profile node and --spec 1.0*"])
    undeclared = pytester.runpytest("--cases-root", str(with_profile), "cases", "--profile",
                                    "node", "--loader", "rhino")
    assert undeclared.ret == pytest.ExitCode.USAGE_ERROR
    undeclared.stderr.fnmatch_lines(["*does not declare the node profile*"])
