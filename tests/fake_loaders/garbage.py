"""A loader that prints garbage instead of the program's output, then exits 0.

    garbage.py KIND STREAM ROOT MAIN

KIND: random (64 KiB of seeded random bytes), invalid-utf8 (overlong forms, lone continuation
bytes, surrogates, bytes 0xfe 0xff), nul (lines of NULs and other control characters), ansi
(terminal escapes: clear screen, cursor moves, erased lines, a window title, colours).
STREAM: stdout or stderr. The last line is always `end of garbage`, so the tail is known.
"""

import random
import sys

from _fake import args

kind, stream = args()[:2]
if kind == "random":
    data = random.Random(20240601).randbytes(64 << 10)
elif kind == "invalid-utf8":
    data = (b"\xc0\xaf overlong slash\n\x80\x81\x82 lone continuation bytes\n"
            b"\xed\xa0\x80 a surrogate\n\xfe\xff\xf8\x88\x80\x80\x80 never in UTF-8\n"
            b"\xe2\x82 a cut sequence\n") * 100
elif kind == "nul":
    data = b"\x00" * 1000 + b"\nNUL\x00in\x00the\x00line\n\x01\x02\x07\x08\x0b\x0c\x7f\n" * 50
elif kind == "ansi":
    data = (b"\x1b[2J\x1b[H\x1b]0;conformance passed\x07\x1b[1A\x1b[2K\r"
            b"\x1b[32mall cases passed\x1b[0m\n\x1b[?25l\x1b[8m hidden \x1b[0m\n") * 20
else:
    sys.exit(f"garbage.py: unknown kind {kind}")
out = {"stdout": sys.stdout, "stderr": sys.stderr}[stream].buffer
out.write(data + b"\nend of garbage\n")
out.flush()
