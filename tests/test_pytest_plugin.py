"""The pytest plugin: cases as items named by id, readable failures, one-line bad files."""

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
