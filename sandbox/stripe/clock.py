"""The stand-in's "now" in Unix seconds, which the control API can move."""

from __future__ import annotations

import threading
import time


class Clock:
    """Wall-clock time plus an offset in seconds."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """The current (possibly shifted) Unix time as a float."""
        with self._lock:
            return time.time() + self._offset

    def now(self) -> int:
        """The current (possibly shifted) Unix time in whole seconds, like Stripe's `created`."""
        return int(self.time())

    def advance(self, seconds: float) -> int:
        """Move time forward (or back, with a negative value) and return the new now."""
        with self._lock:
            self._offset += seconds
        return self.now()

    def travel_to(self, timestamp: float) -> int:
        """Jump to a Unix timestamp and keep ticking from there."""
        with self._lock:
            self._offset = timestamp - time.time()
        return self.now()

    def reset(self) -> None:
        """Go back to real time."""
        with self._lock:
            self._offset = 0.0
