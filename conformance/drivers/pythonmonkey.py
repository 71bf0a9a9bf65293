"""PythonMonkey: its `pmjs` program runner on the main file.

`pmjs FILE` is how PythonMonkey runs a program module: `pythonmonkey.runProgramModule` builds
the main module's require with `pythonmonkey.createRequire`, and ctx-module, PythonMonkey's
CommonJS implementation, does the loading. For a Modules/1.1.1 tree (MAIN a module id)
PMJS_PATH, pmjs's documented variable, puts ROOT on the search path for top-level ids. A node
profile program (MAIN a file path) runs as `pmjs MAIN_FILE` from ROOT with ctx-module's own
lookup alone: no PMJS_PATH. pmjs's console.log writes to stdout and an uncaught error ends it
with status 1 and the error on stderr, so no glue is needed beyond the environment.
"""

import os
import sys

from conformance.drivers import arguments, is_profile, main_file, python_path, replace

ENGINE = "pythonmonkey"


def main() -> None:
    """Run ROOT's main file with pmjs from the cache."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    folder = python_path(ENGINE, "pythonmonkey")
    env = dict(os.environ, PYTHONPATH=folder)
    env.pop("PMJS_PATH", None)
    target = os.path.abspath(main_file(root, main_id))
    if is_profile(main_id):
        env.pop("NODE_PATH", None)
        os.chdir(root)
    else:
        env["PMJS_PATH"] = os.path.abspath(root)
    replace([sys.executable, "-m", "pythonmonkey.cli.pmjs", target], env)


if __name__ == "__main__":
    main()
