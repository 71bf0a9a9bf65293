"""A Verdict makes its strings safe where it is made: one line each, encodable, bounded."""

import random

from conformance.outcomes import DETAIL_LIMIT, MAX_DETAILS, MESSAGE_LIMIT, Kind, Outcome, Verdict

BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def verdict(message, details=()):
    return Verdict("area/name", ("require.function",), Outcome.FAIL, message, 0.1, details,
                   Kind.ASSERTION_FAILED)


def test_line_breaks_of_every_kind_and_lone_surrogates_are_escaped():
    v = verdict("a\nb\u2028c\x85d\ud800e\udfff\x1bf", ("x\fy",))
    assert v.message == "a\\nb\\u2028c\\x85d\\ud800e\\udfff\x1bf"  # ESC is left to each writer
    assert v.details == ("x\\x0cy",)
    v.message.encode("utf-8")
    assert len(v.message.splitlines()) == 1


def test_message_details_and_their_number_are_bounded():
    v = verdict("m" * 60_000_000, tuple("d" * 10_000 for _ in range(100_000)))
    assert len(v.message) == MESSAGE_LIMIT and v.message.endswith("(60000000 characters in all)")
    assert len(v.details) == MAX_DETAILS and v.details[-1] == \
        f"... and {100_000 - MAX_DETAILS + 1} more lines"
    assert all(len(d) <= DETAIL_LIMIT for d in v.details)


def test_making_a_verdict_again_from_its_own_fields_changes_nothing():
    """What a results file reads back equals what was written."""
    rng = random.Random(11)
    pool = [chr(c) for c in range(0x20, 0x7f)] + list(BREAKS) + ["\ud800", "\udc00", "\U0001f600"]
    for _ in range(300):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 3000)))
        once = verdict(text, (text,) * rng.randrange(0, 80))
        again = verdict(once.message, once.details)
        assert (again.message, again.details) == (once.message, once.details)
        assert not any(c in once.message for c in BREAKS + "\ud800\udc00")
