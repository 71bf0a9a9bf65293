"""The node profile's fixtures for the runner's tests: a small catalogue and a few cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import clauses

HERE = Path(__file__).resolve().parent
#: The fixture catalogue (six clauses: STATES, DEPRECATED and a reading).
CATALOGUE = HERE / "node-clauses.yaml"
#: A case root holding node/... cases of the fixture catalogue (and one spec case).
CASES = HERE / "cases"


@pytest.fixture
def node_catalogue(monkeypatch):
    """The node profile judged by the fixture catalogue, whatever conformance/data holds."""
    monkeypatch.setitem(clauses.CATALOGUE_FILES, "node", str(CATALOGUE))
    clauses._catalogue.cache_clear()
    clauses.source_commit.cache_clear()
    yield clauses.catalogue("node")
    monkeypatch.undo()
    clauses._catalogue.cache_clear()
    clauses.source_commit.cache_clear()
