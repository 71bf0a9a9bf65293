"""An in-process Python loader (`--loader tests.fake_loaders.sleepy:SleepyLoader`) that sleeps
through a program whose main module holds the word SLEEP, and answers the rest with FEATURES
alone. Its sleep ends when RELEASE is set, or after LIFETIME seconds, so a test that failed
leaves no thread sleeping for long."""

import threading

from conformance.contract import Declaration, Execution

#: Seconds a sleeping run lasts at most.
LIFETIME = 60
#: Set by a test to end every sleep at once.
RELEASE = threading.Event()


class SleepyLoader:
    name = "sleepy"
    declaration = Declaration()

    def run(self, program):
        if "SLEEP" in program.modules[program.main]:
            RELEASE.wait(LIFETIME)
        return Execution(stdout="FEATURES require.main=present require.paths=present "
                                "module.uri=present\n")
