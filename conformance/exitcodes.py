"""Exit statuses of the command line."""

import enum


class ExitCode(enum.IntEnum):
    """What `runner.py` / `commonjs-conformance` exits with."""

    OK = 0  # every applicable case passed (warnings and skips included)
    FAILED = 1  # some case failed, errored or timed out; or `exec`: the program failed
    INTERRUPTED = 2  # the run was stopped (Ctrl-C); results so far were still written
    INTERNAL_ERROR = 3  # a bug in the suite itself
    USAGE_ERROR = 4  # bad command line, or a loader that cannot be set up
    NO_CASES = 5  # the selection matched no case
    CASE_ERROR = 6  # one or more case files are malformed; nothing was run
    EXPECTATIONS_ERROR = 7  # the expectations file is malformed or is for another loader/spec
