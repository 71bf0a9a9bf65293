#!/usr/bin/env python3
"""A loader script without its executable bit, used as the command itself: it never runs.

If it ever did run, it would claim success, which the tests would notice.
"""
print("PASS 1 a loader that cannot be executed ran anyway")
print("DONE 1")
