"""The command line's argument parser: exit 4 for a bad command line (2 is an interruption's
status), usage naming the command as it was called."""

from __future__ import annotations

import argparse
import os
import sys

from conformance.exitcodes import ExitCode


class Parser(argparse.ArgumentParser):
    """argparse with exit 4 for a bad command line, its usage naming the command as called."""

    def __init__(self, *args, prog: str = "runner.py", **kwargs):
        name = self.invoked()
        super().__init__(*args, prog=name + prog.removeprefix("runner.py"), **kwargs)

    @staticmethod
    def invoked() -> str:
        """The name the command was called by: `runner.py` or `commonjs-conformance` (the base
        name of sys.argv[0]); `runner.py` where it was called by no name of its own (python
        -m, or main() called from Python)."""
        name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
        return name if name == "runner.py" or name.startswith("commonjs-conformance") \
            else "runner.py"

    def error(self, message: str):  # argparse exits 2, which we keep for interruptions
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE_ERROR, f"{self.prog}: error: {message}\n")
