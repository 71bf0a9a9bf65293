"""The terminal view: whatever a loader, a case file or a user supplied is shown escaped."""

import io

from conformance.outcomes import Outcome, Verdict
from conformance.results import Results
from conformance.terminal import Progress, summary

HOSTILE = "x\x1b[2J\x07\u2028\ud800y"
SHOWN = "x\\x1b[2J\\x07\\u2028\\ud800y"


def test_every_supplied_string_is_shown_escaped_on_one_line():
    clause = "c\x1b[31m"  # no line break: the verdict keeps it as it is, to match `citing`
    verdict = Verdict(f"area/{HOSTILE}", (clause,), Outcome.BLOCKED, HOSTILE, 0.1,
                      (HOSTILE,), "not-started", (clause,))
    out = io.StringIO()
    progress = Progress(out, verbose=True)
    progress.header(HOSTILE, "1.1.1", 1, "0.1.0")
    progress(verdict)
    summary(Results("0.1.0", HOSTILE, "1.1.1", False, (verdict,), 1.0), out,
            {clause: [f"other/{HOSTILE}"]})
    text = out.getvalue()
    assert not any(c in text for c in "\x1b\x07\u2028\ud800"), repr(text)
    text.encode("utf-8")
    assert f"loader {SHOWN}," in text and f"\n{SHOWN}, Modules/1.1.1: " in text
    assert f"c\\x1b[31m is tested by: other/{SHOWN}" in text and f"area/{SHOWN}" in text
