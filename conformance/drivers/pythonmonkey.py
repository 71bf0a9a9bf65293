"""PythonMonkey: its `pmjs` program runner, with the tree on the module search path.

`pmjs FILE` is how PythonMonkey runs a program module: `pythonmonkey.runProgramModule` builds
the main module's require with `pythonmonkey.createRequire`, and ctx-module, PythonMonkey's
CommonJS implementation, does the loading. PMJS_PATH, pmjs's documented variable, puts ROOT on
the search path for top-level ids. pmjs's console.log writes to stdout and an uncaught error
ends it with status 1 and the error on stderr, so no glue is needed beyond the environment.
"""

import os
import sys

from conformance.drivers import arguments, main_file, python_path, replace

ENGINE = "pythonmonkey"


def main() -> None:
    """Run ROOT/MAIN.js with pmjs from the cache."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    folder = python_path(ENGINE, "pythonmonkey")
    env = dict(os.environ, PYTHONPATH=folder, PMJS_PATH=os.path.abspath(root))
    replace([sys.executable, "-m", "pythonmonkey.cli.pmjs", main_file(root, main_id)], env)


if __name__ == "__main__":
    main()
