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
    if name.startswith(("mutant:", "variant:")):
        from conformance.mutants import BY_NAME, VARIANTS
        kind, _, short = name.partition(":")
        known = BY_NAME if kind == "mutant" else VARIANTS
        if short not in known:
            raise LoaderError(f"unknown {kind} {name!r}; known: {', '.join(known)}")
        return known[short].loader()
    try:
        factory = BUILTIN[name]
    except KeyError:
        raise LoaderError(f"unknown loader {name!r}; known: {', '.join(BUILTIN)}, "
                          "mutant:NAME, variant:NAME") from None
    return factory()
