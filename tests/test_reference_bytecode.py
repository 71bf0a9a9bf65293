"""QuickJS bytecode through the binding's C API (conformance.reference.bytecode)."""

import pytest
import quickjs

from conformance.reference import bytecode


def test_bytecode_works_with_the_installed_binding():
    # The reference loader's speed rests on it; should the binding's layout change, this
    # says so instead of the suite silently getting slower.
    assert bytecode.unavailable() is None


def test_a_compiled_script_runs_in_other_fresh_contexts():
    data = bytecode.compile_script("globalThis.answer = [6 * 7, typeof print].join(' ');")
    for _ in range(3):
        context = quickjs.Context()
        assert bytecode.run_script(context, data) is True
        assert context.get("answer") == "42 undefined"


def test_a_script_that_throws_says_false_and_leaves_the_context_usable():
    data = bytecode.compile_script("globalThis.before = 1; throw new Error('boom');")
    context = quickjs.Context()
    assert bytecode.run_script(context, data) is False
    assert context.get("before") == 1
    assert context.eval("1 + 1") == 2  # no exception left pending


def test_a_script_that_does_not_compile_is_a_value_error():
    with pytest.raises(ValueError, match="does not compile"):
        bytecode.compile_script("function (")


def test_an_unknown_binding_layout_turns_bytecode_off(monkeypatch):
    monkeypatch.setattr(bytecode, "CONTEXT_FIELDS_SIZE", bytecode.CONTEXT_FIELDS_SIZE + 8)
    bytecode._checked.cache_clear()
    try:
        assert "not the" in bytecode.unavailable()
        with pytest.raises(ValueError, match="no bytecode"):
            bytecode.compile_script("1")
    finally:
        monkeypatch.undo()
        bytecode._checked.cache_clear()
    assert bytecode.unavailable() is None
