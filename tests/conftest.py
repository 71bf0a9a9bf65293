"""Shared fixtures of the project's own tests."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo() -> Path:
    """The checkout's top directory."""
    return REPO
