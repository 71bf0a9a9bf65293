#!/usr/bin/env python3
"""The command line of commonjs-conformance: `python runner.py --help`."""

import importlib.util
import os
import shlex
import sys

#: The modules the suite imports that Python does not ship, and the package each comes from.
DEPENDENCIES = {"yaml": "pyyaml", "quickjs": "quickjs", "jsonschema": "jsonschema"}


def missing() -> list[str]:
    """The packages of DEPENDENCIES this Python cannot import, in order."""
    return [package for module, package in DEPENDENCIES.items()
            if importlib.util.find_spec(module) is None]


def install_hint(packages: list[str]) -> str:
    """The one line that says what to install, and where from, instead of a traceback."""
    here = os.path.dirname(os.path.abspath(__file__))
    return (f"runner.py: {', '.join(packages)} not installed for {sys.executable}; install the "
            f"suite first: cd {shlex.quote(here)} && {shlex.quote(sys.executable)} -m pip install -e .")


if __name__ == "__main__":
    lacking = missing()
    if lacking:
        print(install_hint(lacking), file=sys.stderr)
        sys.exit(4)  # ExitCode.USAGE_ERROR, which cannot be imported without the dependencies
    from conformance.cli import main

    sys.exit(main())
