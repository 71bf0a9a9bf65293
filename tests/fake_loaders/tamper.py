"""A loader that runs the case with the real reference loader, then tampers with the output.

    tamper.py MODE ROOT MAIN

The real run is `python runner.py exec ROOT MAIN` (conformance.cli.main, in this process);
its exit status is the fake's.

MODE:
  honest        prints the real output unchanged (the good loader the others are compared with)
  canned        never runs the program: prints `PASS 1 x` and `DONE 1`
  canned-check  never runs the program: prints `PASS 1 x` and `DONE 1 deadbeef`, a made-up check
  dup-done      prints the real output, then its DONE line a second time
  replay        prints the real output twice
  flood-after   prints the real output, then 8 MiB of lines that are no part of the protocol
"""

import contextlib
import io
import sys

from _fake import args

mode, root, main = args()[:3]
if mode == "canned":
    print("PASS 1 x\nDONE 1")
    sys.exit(0)
if mode == "canned-check":
    print("PASS 1 x\nDONE 1 deadbeef")
    sys.exit(0)

from conformance.cli import main as runner  # noqa: E402

out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    status = runner(["exec", root, main])
real = out.getvalue()
sys.stderr.write(err.getvalue())
if mode == "honest":
    sys.stdout.write(real)
elif mode == "dup-done":
    done = [line for line in real.splitlines() if line.startswith("DONE ")]
    sys.stdout.write(real + "".join(line + "\n" for line in done[-1:]))
elif mode == "replay":
    sys.stdout.write(real + real)
elif mode == "flood-after":
    sys.stdout.write(real)
    sys.stdout.flush()
    line = "x" * 1023 + "\n"
    for _ in range(8 * 1024):
        sys.stdout.write(line)
else:
    sys.exit(f"tamper.py: unknown mode {mode}")
sys.stdout.flush()
sys.exit(status)
