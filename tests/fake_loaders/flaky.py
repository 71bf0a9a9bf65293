"""An in-process loader (`--loader tests.fake_loaders.flaky:FlakyLoader`) that runs each
program on the reference loader, but answers every second run with nothing: a flaky loader."""

import itertools
import threading

from conformance.contract import Execution
from conformance.reference import ReferenceLoader


class FlakyLoader:
    name = "flaky"

    def __init__(self):
        self.reference = ReferenceLoader()
        self.declaration = self.reference.declaration
        self.runs = itertools.count()
        self.lock = threading.Lock()

    def run(self, program):
        with self.lock:
            run = next(self.runs)
        if run % 2:
            return Execution(stdout="")
        return self.reference.run(program)
