"""A loader that prints far more than anyone should read.

    flood.py STREAM MIB ROOT MAIN       MIB mebibytes of 'x' lines on STREAM, then exits 0
    flood.py STREAM forever ROOT MAIN   prints on STREAM until it is killed

STREAM: stdout or stderr. It prints FEATURES and a PASS line on stdout first.
"""

import sys

from _fake import FEATURES, args, say

stream, amount = args()[:2]
say(FEATURES, "PASS 1 before the flood")
out = {"stdout": sys.stdout, "stderr": sys.stderr}[stream].buffer
chunk = (b"x" * 1023 + b"\n") * 1024  # 1 MiB
if amount == "forever":
    while True:
        out.write(chunk)
for _ in range(int(amount)):
    out.write(chunk)
out.flush()
