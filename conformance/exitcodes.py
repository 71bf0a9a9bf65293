"""Exit statuses of the command line."""

import enum


class ExitCode(enum.IntEnum):
    """What `runner.py` / `commonjs-conformance` exits with."""

    OK = 0  # every applicable case passed (warnings and skips included), and one at least ran
    # Some case failed, errored or timed out (also when --max-fail or a loader that never
    # started stopped the run); `exec`: the program failed; `diff`: a verdict changed.
    FAILED = 1
    INTERRUPTED = 2  # the run was stopped (Ctrl-C); results so far were still written
    INTERNAL_ERROR = 3  # a bug in the suite itself
    USAGE_ERROR = 4  # bad command line, a loader that cannot be set up, or an output path that
    #                  cannot be written (checked before anything runs)
    NO_CASES = 5  # the selection matched no case
    CASE_ERROR = 6  # one or more case files are malformed; nothing was run
    EXPECTATIONS_ERROR = 7  # the expectations file is malformed or is for another loader/spec
    # Every selected case ran and was not applicable (no case passed): the loader was judged on
    # nothing, so this is no success, however clean it looks; a loader that answers every case
    # with "not applicable" must not turn a CI job green.
    NOTHING_TESTED = 8
    # The run ended, but an output file (results, JUnit, expectations, kept cases) could not be
    # written in full: the rest was written, and one line says what was lost.
    OUTPUT_ERROR = 9
