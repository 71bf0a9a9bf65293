"""A host of the host protocol that misbehaves on purpose: python host.py MODE [ARG].

Every mode says hello (but no-hello, bad-hello, old-version, exit-at-start), then answers each
request with a reply whose stdout is `ran CASE` and that counts the requests this process has
had, except where its mode says otherwise:

    good                 every request answered
    hang N               request for case cN is never answered (and likewise below)
    die N                the process exits with status 7 at request N, after a line on stderr
    flood N              request N is answered with a line of 1 MiB of 'x' (not JSON)
    garbage N            request N is answered with a line that is not JSON
    wrong-id N           request N is answered with the id of another request
    bad-shape N          request N is answered without its stderr field
    array N              request N is answered with a JSON array
    no-hello             says nothing and sleeps
    bad-hello            its first line is a JSON object of another protocol
    old-version          its hello says version 2
    exit-at-start        exits with status 3 before its hello
    record FILE          every request line is appended to FILE
    leak                 stdout also says how many requests this process had before (state kept
                         from one case to the next)
"""

import json
import os
import sys
import time

mode = sys.argv[1]
arg = sys.argv[2] if len(sys.argv) > 2 else ""
target = int(arg) if arg.isdigit() else 0


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if mode == "no-hello":
    time.sleep(60)
    sys.exit(0)
if mode == "exit-at-start":
    sys.stderr.write("host.py: cannot start, on purpose\n")
    sys.exit(3)
if mode == "bad-hello":
    say(json.dumps({"protocol": "something-else", "version": 1}))
elif mode == "old-version":
    say(json.dumps({"protocol": "commonjs-conformance-host", "version": 2}))
else:
    say(json.dumps({"protocol": "commonjs-conformance-host", "version": 1, "name": "fake"}))

count = 0
for line in sys.stdin:
    request = json.loads(line)
    count += 1
    if mode == "record":
        with open(arg, "a") as out:
            out.write(line)
    reply = {"id": request["id"], "stdout": f"ran {request['case']}\n", "stderr": "",
             "exit_code": 0}
    if mode == "leak":
        reply["stdout"] += f"requests before: {count - 1}\n"
    if request["case"] == f"c{target}":
        if mode == "hang":
            time.sleep(60)
        elif mode == "die":
            sys.stderr.write("host.py: dying on purpose\n")
            sys.stderr.flush()
            os._exit(7)
        elif mode == "flood":
            say("x" * (1 << 20))
            continue
        elif mode == "garbage":
            say("this is not JSON")
            continue
        elif mode == "wrong-id":
            reply["id"] += 1000
        elif mode == "bad-shape":
            del reply["stderr"]
        elif mode == "array":
            say("[1, 2]")
            continue
    say(json.dumps(reply))
