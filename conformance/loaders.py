"""Loaders by name: the ones the suite knows how to build."""

from __future__ import annotations

from typing import Callable

from conformance.adapter import Loader


def _reference() -> Loader:
    from conformance.reference import ReferenceLoader
    return ReferenceLoader()


def _reference_sandbox() -> Loader:
    from conformance.reference import ReferenceLoader
    return ReferenceLoader(sandbox=True)


BUILTIN: dict[str, Callable[[], Loader]] = {
    "reference": _reference,
    "reference-sandbox": _reference_sandbox,
}


class LoaderError(Exception):
    """A loader that cannot be set up, with a message for the user."""


def resolve(name: str) -> Loader:
    """The loader called `name`."""
    if name.startswith("mutant:"):
        from conformance.mutants import BY_NAME, PREFIX
        mutant = BY_NAME.get(name[len(PREFIX):])
        if mutant is None:
            raise LoaderError(f"unknown mutant {name!r}; known: {', '.join(BY_NAME)}")
        return mutant.loader()
    try:
        factory = BUILTIN[name]
    except KeyError:
        raise LoaderError(f"unknown loader {name!r}; known: {', '.join(BUILTIN)}, "
                          "mutant:NAME") from None
    return factory()
