"""A loader that closes its stdout early and keeps running a while, then exits 0.

    close_stdout.py after-pass ROOT MAIN   prints FEATURES and PASS 1, closes stdout, works 1 s
    close_stdout.py at-once ROOT MAIN      closes stdout before printing anything, works 1 s
"""

import os
import sys
import time

from _fake import FEATURES, args, say

mode = args()[0]
if mode == "after-pass":
    say(FEATURES, "PASS 1 the last line before stdout was closed")
elif mode != "at-once":
    sys.exit(f"close_stdout.py: unknown mode {mode}")
sys.stdout.flush()
os.close(1)
say("fake loader: stdout closed, still working", stream=sys.stderr)
time.sleep(1.0)
os._exit(0)  # not sys.exit: Python would complain about the closed stdout on the way out
