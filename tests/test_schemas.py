"""The suite's JSON Schemas: one validator each, ECMA patterns, one-line errors by line."""

from pathlib import Path

import pytest

from conformance import schemas
from conformance.caseload import CaseError
from conformance.yamlfile import read_document

SCHEMAS = sorted(p.name[:-len(".schema.json")] for p in
                 (Path(schemas.__file__).parent / "schema").glob("*.schema.json"))


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_schema_is_a_valid_draft_2020_12_schema_with_a_validator(name):
    validator = schemas.validator(name)
    assert validator.schema.get("type") == "object"


def test_a_pattern_anchors_at_the_very_end_of_the_string_as_in_ecma_262():
    request = {"type": "run", "id": 1, "case": "c", "modules": {"program": ""},
               "main": "program", "sandbox": False, "timeout": 1}
    assert schemas.problem("host-request", request) is None
    wrong = schemas.problem("host-request", {**request, "modules": {"program\n": ""}})
    assert wrong is not None and "\n" not in wrong.replace("\\n", "")


def test_a_problem_is_one_line_naming_where_it_is():
    wrong = schemas.problem("host-reply", {"id": 1, "stdout": 5, "stderr": "", "exit_code": 0})
    assert wrong.startswith("stdout: ") and "\n" not in wrong


def test_the_first_error_of_a_file_is_the_one_on_its_earliest_line(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("title: A title long enough\nclauses: [require.function]\nmodules:\n"
                    "  program: 5\n"
                    "main: [x]\n")
    doc = read_document(path, 1 << 20, CaseError)
    error = schemas.first_error(doc, "case")
    assert isinstance(error, CaseError)
    assert (error.line, error.field) == (4, "modules.program"), str(error)
