"""QuickJS bytecode: compile a script once, run it in many fresh contexts.

The `quickjs` binding offers no bytecode, but its library exports QuickJS's C API
(JS_Eval with JS_EVAL_FLAG_COMPILE_ONLY, JS_WriteObject, JS_ReadObject, JS_EvalFunction), which
ctypes reaches. A binding Context keeps its JSRuntime and JSContext pointers right after the
Python object header; that layout is checked (the type's size, the runtime the context
belongs to, a round trip) before bytecode is used at all. When anything does not check out,
`unavailable()` says why and callers compile from source: slower, same results.
"""

from __future__ import annotations

import ctypes
import functools
import sys

import _quickjs
import quickjs

#: JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY; JS_WRITE_OBJ_BYTECODE; JS_READ_OBJ_BYTECODE.
COMPILE_ONLY = 1 << 5
WRITE_BYTECODE = 1 << 0
READ_BYTECODE = 1 << 0
#: JSValue tags: an exception, and the first of the (negative) tags that carry a reference count.
TAG_EXCEPTION = 6
TAG_FIRST_COUNTED = -11
#: What a binding Context holds after the object header: JSRuntime *, JSContext *, int and
#: clock_t (time limit), PyThreadState *, InterruptData (two clock_t), the callables list.
CONTEXT_FIELDS_SIZE = 64
#: The filename QuickJS gives code the binding evaluates, so frames read the same either way.
FILENAME = b"<input>"


class JSValue(ctypes.Structure):
    """QuickJS's JSValue on a 64-bit build: a union of 8 bytes and a 64-bit tag."""

    _fields_ = [("u", ctypes.c_int64), ("tag", ctypes.c_int64)]


def _library() -> ctypes.CDLL:
    lib = ctypes.CDLL(_quickjs.__file__)
    p, size = ctypes.c_void_p, ctypes.c_size_t
    for name, restype, argtypes in (
            ("JS_GetRuntime", p, [p]),
            ("JS_UpdateStackTop", None, [p]),
            ("JS_Eval", JSValue, [p, ctypes.c_char_p, size, ctypes.c_char_p, ctypes.c_int]),
            ("JS_WriteObject", p, [p, ctypes.POINTER(size), JSValue, ctypes.c_int]),
            ("JS_ReadObject", JSValue, [p, ctypes.c_char_p, size, ctypes.c_int]),
            ("JS_EvalFunction", JSValue, [p, JSValue]),
            ("JS_GetException", JSValue, [p]),
            ("__JS_FreeValue", None, [p, JSValue]),
            ("js_free", None, [p, p])):
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


@functools.cache
def _checked() -> tuple[ctypes.CDLL | None, str | None]:
    """(the library, None) when bytecode can be used here, else (None, why not)."""
    if sys.implementation.name != "cpython" or sys.maxsize < 2 ** 32:
        return None, "needs 64-bit CPython"
    expected = object.__basicsize__ + CONTEXT_FIELDS_SIZE
    if quickjs.Context.__basicsize__ != expected:
        return None, (f"quickjs.Context is {quickjs.Context.__basicsize__} bytes, not the "
                      f"{expected} of the layout this module knows")
    try:
        lib = _library()
    except (OSError, AttributeError) as exc:
        return None, f"the QuickJS C API is not reachable: {exc}"
    context = quickjs.Context()
    runtime, js_context = _pointers(context)
    if not runtime or not js_context or lib.JS_GetRuntime(js_context) != runtime:
        return None, "quickjs.Context does not hold its runtime and context where expected"
    try:
        data = _compile(lib, "globalThis.bytecodeCheck = [6 * 7, 'ok'].join(' ');")
        fresh = quickjs.Context()
        if not _run(lib, fresh, data) or fresh.get("bytecodeCheck") != "42 ok":
            return None, "a compiled check script did not run back as expected"
    except (ValueError, quickjs.JSException) as exc:
        return None, f"a compiled check script failed: {exc}"
    return lib, None


def unavailable() -> str | None:
    """None when bytecode works with this quickjs binding, else why it does not."""
    return _checked()[1]


def _pointers(context: quickjs.Context) -> tuple[int | None, int | None]:
    """The JSRuntime * and JSContext * a binding Context holds after its object header."""
    base = id(context) + object.__basicsize__
    size = ctypes.sizeof(ctypes.c_void_p)
    return (ctypes.c_void_p.from_address(base).value,
            ctypes.c_void_p.from_address(base + size).value)


def _free(lib: ctypes.CDLL, js_context: int, value: JSValue) -> None:
    """JS_FreeValue, an inline function in quickjs.h: drop one reference."""
    if TAG_FIRST_COUNTED <= value.tag < 0:
        count = ctypes.c_int.from_address(value.u)
        count.value -= 1
        if count.value <= 0:
            lib.__JS_FreeValue(js_context, value)


def _compile(lib: ctypes.CDLL, text: str) -> bytes:
    context = quickjs.Context()
    runtime, js_context = _pointers(context)
    source = text.encode("utf-8")
    lib.JS_UpdateStackTop(runtime)
    compiled = lib.JS_Eval(js_context, source, len(source), FILENAME, COMPILE_ONLY)
    if compiled.tag == TAG_EXCEPTION:
        _free(lib, js_context, lib.JS_GetException(js_context))
        raise ValueError("the script does not compile")
    size = ctypes.c_size_t()
    buffer = lib.JS_WriteObject(js_context, ctypes.byref(size), compiled, WRITE_BYTECODE)
    _free(lib, js_context, compiled)
    if not buffer:
        raise ValueError("QuickJS could not write the compiled script")
    try:
        return ctypes.string_at(buffer, size.value)
    finally:
        lib.js_free(js_context, buffer)


def _run(lib: ctypes.CDLL, context: quickjs.Context, data: bytes) -> bool:
    runtime, js_context = _pointers(context)
    lib.JS_UpdateStackTop(runtime)
    function = lib.JS_ReadObject(js_context, data, len(data), READ_BYTECODE)
    result = function if function.tag == TAG_EXCEPTION else lib.JS_EvalFunction(js_context,
                                                                                  function)
    if result.tag == TAG_EXCEPTION:
        _free(lib, js_context, lib.JS_GetException(js_context))
        return False
    _free(lib, js_context, result)
    return True


def compile_script(text: str) -> bytes:
    """The bytecode of global script `text`; ValueError when it does not compile or bytecode
    is unavailable."""
    lib, why = _checked()
    if lib is None:
        raise ValueError(f"no bytecode: {why}")
    return _compile(lib, text)


def run_script(context: quickjs.Context, data: bytes) -> bool:
    """Run bytecode from compile_script in `context`, as eval() would run its script, but with
    no time limit (keep to scripts that only define things). False when it threw; the error is
    dropped, so the caller runs the source instead to see it."""
    lib, why = _checked()
    if lib is None:
        raise ValueError(f"no bytecode: {why}")
    return _run(lib, context, data)
