#!/usr/bin/env python3
"""The command line of commonjs-conformance: `python runner.py --help`."""

import sys

from conformance.cli import main

if __name__ == "__main__":
    sys.exit(main())
