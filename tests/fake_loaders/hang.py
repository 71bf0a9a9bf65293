"""A loader that never finishes, or waits for input that never comes.

    hang.py stdin ROOT MAIN            reads its stdin to the end, then says what it got and exits 0
    hang.py sleep ROOT MAIN            prints nothing and sleeps forever
    hang.py pass-then-sleep ROOT MAIN  prints FEATURES and two PASS lines, then sleeps forever
    hang.py stop ROOT MAIN             prints a PASS line, then stops itself with SIGSTOP
"""

import os
import signal
import sys
import time

from _fake import FEATURES, args, say

mode = args()[0]
if mode == "stdin":
    data = sys.stdin.buffer.read()  # a loader waiting for a REPL's input
    say(f"read {len(data)} bytes from stdin")
    sys.exit(0)
if mode == "pass-then-sleep":
    say(FEATURES, "PASS 1 printed before the hang", "PASS 2 the last line before the hang")
    say("fake loader: waiting for something that never happens", stream=sys.stderr)
elif mode == "stop":
    say(FEATURES, "PASS 1 printed before stopping")
    os.kill(os.getpid(), signal.SIGSTOP)
elif mode != "sleep":
    sys.exit(f"hang.py: unknown mode {mode}")
while True:
    time.sleep(3600)
