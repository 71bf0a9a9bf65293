"""pyduktape2: a DuktapeContext with its base path at the tree, requiring the main module.

Duktape's own CommonJS require (ids resolved by Duktape, files found by pyduktape2 under the
context's base path, as its README shows with `set_base_path`) loads every module, the main
one included: the driver evaluates `require(MAIN)`, so the main module is a module with its own
`module` and `exports` (pyduktape2's `eval_js_file` would run it as a plain script instead).
Duktape's built-in `print` writes the program's lines to stdout; the driver adds a
`console.log` that is that `print`, since Duktape has no console.
"""

import sys

from conformance.drivers import arguments, python_module, uncaught

ENGINE = "pyduktape2"
CONSOLE = "var console = {log: function () { print.apply(null, arguments); }}; undefined;"


def main() -> None:
    """Run module MAIN of ROOT on a fresh DuktapeContext; an uncaught error goes to stderr."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    pyduktape2 = python_module(ENGINE, "pyduktape2")
    context = pyduktape2.DuktapeContext()
    context.set_base_path(root)
    context.set_globals(conformanceMain=main_id)
    try:
        context.eval_js(CONSOLE)
        context.eval_js("require(conformanceMain); undefined;")
    except pyduktape2.JSError as exc:
        uncaught(exc)
    finally:
        sys.stdout.flush()


if __name__ == "__main__":
    main()
