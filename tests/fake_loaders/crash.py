"""A loader that prints a little, then crashes or exits with a status.

    crash.py segv ROOT MAIN     a real segmentation fault (reads address 0)
    crash.py kill ROOT MAIN     kills itself with SIGKILL
    crash.py abort ROOT MAIN    abort(): SIGABRT
    crash.py exit-N ROOT MAIN   exits with status N (1, 2, 127, ...)

Before that it prints FEATURES and `PASS 1` on stdout and a line naming the mode on stderr.
"""

import ctypes
import os
import signal
import sys

from _fake import FEATURES, args, say

mode = args()[0]
say(FEATURES, "PASS 1 the last line before the end")
if mode == "exit-127":
    say("sh: 1: nodee: not found", stream=sys.stderr)  # what a wrapper script says
else:
    say(f"fake loader: about to {mode}", stream=sys.stderr)
if mode == "segv":
    ctypes.string_at(0)
elif mode == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
elif mode == "abort":
    os.abort()
elif mode.startswith("exit-"):
    sys.exit(int(mode[len("exit-"):]))
sys.exit(f"crash.py: unknown mode {mode}")
