"""The reference loader's fixed scripts compiled once: loader.js, and the harness helper's
module factory exactly as that loader.js wraps it, with a stand-in key patched per run."""

from __future__ import annotations

from dataclasses import dataclass

import quickjs

from conformance import harness
from conformance.reference import bytecode

#: The key the precompiled helper carries; each run's key is written over it in the bytecode.
#: It has a real key's length, so the bytecode stays valid; it must occur there exactly once.
SENTINEL_KEY = "c0debe11c0debe11"
assert len(SENTINEL_KEY) == harness.KEY_LENGTH


@dataclass(frozen=True)
class Compiled:
    """Bytecode of one loader source, and of the helper's factory script for it (or None)."""

    loader: bytes
    harness: bytes | None

    def harness_factory(self, key: str) -> bytes | None:
        """The helper's factory script carrying `key`: the bytecode of compiling the helper
        source with that key, since the key's bytes are all that differ."""
        if self.harness is None:
            return None
        return self.harness.replace(SENTINEL_KEY.encode("ascii"), key.encode("ascii"))


def compile_loader(js_source: str) -> Compiled | None:
    """`js_source` (a loader.js) and its helper factory compiled; None when bytecode is not
    available or the source does not compile (running the source then reports why)."""
    if bytecode.unavailable():
        return None
    try:
        loader = bytecode.compile_script(js_source)
    except ValueError:
        return None
    return Compiled(loader, _compile_harness(js_source))


def _compile_harness(js_source: str) -> bytes | None:
    """The helper's factory script, with SENTINEL_KEY where each run's key goes."""
    data = factory_script(js_source, harness.source(SENTINEL_KEY))
    return data if data and data.count(SENTINEL_KEY.encode("ascii")) == 1 else None


def factory_script(js_source: str, text: str) -> bytes | None:
    """A script that hands loader `js_source` the factory of a module whose source is `text`:
    what control('wrap', text) gives, compiled. None when that is not one expression."""
    from conformance.reference.engine import CONTROL_GLOBAL, INPUT_GLOBAL
    from conformance.reference.tree import Tree, loader_input

    context = quickjs.Context()
    context.set(INPUT_GLOBAL, loader_input(Tree([], "/", ""), "-", True, output_limit=0))
    try:
        context.eval(js_source)
        control = context.get(CONTROL_GLOBAL)
        wrapped = control("wrap", text) if control else None
    except (quickjs.JSException, TypeError):
        return None
    # Text that starts with '(' and compiles inside parentheses is one expression, and has the
    # value the loader's own eval of it would have.
    if not isinstance(wrapped, str) or not wrapped.startswith("("):
        return None
    try:
        return bytecode.compile_script(f"{CONTROL_GLOBAL}('factory', ({wrapped}\n));")
    except ValueError:
        return None
