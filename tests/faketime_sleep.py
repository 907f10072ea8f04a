"""A pytest plugin for the runs under Debian's faketime (`make test-dates` loads it with -p).

With the monotonic clock left real (FAKETIME_DONT_FAKE_MONOTONIC=1), Debian 12's libfaketime
0.9.10 still shifts absolute CLOCK_MONOTONIC sleeps, which is how Python 3.11's `time.sleep`
sleeps, so every sleep fails with EINVAL (fixed in libfaketime after 0.9.10). A select() timeout
is relative and left alone, so sleeping on one behaves like the real `time.sleep`.
"""

from __future__ import annotations

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
