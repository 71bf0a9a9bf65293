"""dukpy: a JSInterpreter whose loader has the tree registered, running the main file.

This is dukpy's own CommonJS support as its README shows it: `loader.register_path(ROOT)`,
then `JSInterpreter.run(MAIN_FILE)`, which loads the file as a CommonJS module. The driver
adds a global `print` writing a line to stdout, and sends dukpy's console (which logs through
the `dukpy.interpreter` logger) to stdout too. It runs from ROOT, so the loader's default
search path (the working directory) is the tree and not the suite's checkout.
"""

import logging
import os
import sys

from conformance.drivers import arguments, main_file, python_module, uncaught

ENGINE = "dukpy"
PRINT = ("globalThis.print = function () {"
         " call_python('conformance.print', Array.prototype.join.call(arguments, ' ')); }; null")


def write(line: str) -> None:
    """One line of the program's output."""
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def main() -> None:
    """Run ROOT/MAIN.js on dukpy's interpreter; an uncaught error goes to stderr, status 1."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    dukpy = python_module(ENGINE, "dukpy")
    console = logging.getLogger("dukpy.interpreter")
    handler = logging.StreamHandler(sys.stdout)
    console.addHandler(handler)
    console.setLevel(logging.INFO)
    console.propagate = False
    path = os.path.abspath(main_file(root, main_id))
    os.chdir(root)
    interpreter = dukpy.JSInterpreter()
    interpreter.loader.register_path(os.path.abspath(root))
    interpreter.export_function("conformance.print", write)
    interpreter.evaljs(PRINT)
    try:
        interpreter.run(path)
    except dukpy.JSRuntimeError as exc:
        uncaught(exc)
    handler.flush()


if __name__ == "__main__":
    main()
