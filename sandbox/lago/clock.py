"""The stand-in's notion of "now": real time or a fixed start, which a test clock can move."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


def iso(moment: datetime | None) -> str | None:
    """Format a moment the way Lago does (`Time#iso8601`: UTC, seconds, trailing Z)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | None) -> datetime | None:
    """Parse an ISO 8601 timestamp (with Z or an offset) into an aware datetime."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Clock:
    """The stand-in's time: it runs on from an origin that travel and advance move.

    Without a `start` it follows the wall clock, and `reset` goes back to real time. With a
    `start` (a fixed instant, for tests) `reset` goes back to that instant and time runs on at
    the monotonic clock's pace, so neither the date of the host nor changes to its wall clock
    move it.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.start = start.astimezone(UTC) if start is not None else None
        self._ticks = time.monotonic if start is not None else time.time
        self._lock = threading.Lock()
        self._set(self.start)

    def _now(self) -> datetime:
        return self._origin + timedelta(seconds=self._ticks() - self._at)

    def _set(self, moment: datetime | None) -> None:
        self._at = self._ticks()
        self._origin = moment if moment is not None else datetime.fromtimestamp(self._at, UTC)

    def now(self) -> datetime:
        """The current (possibly moved) UTC time."""
        with self._lock:
            return self._now()

    def now_iso(self) -> str:
        """The current time formatted like Lago's timestamps."""
        return iso(self.now())  # type: ignore[return-value]

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward by `delta` and return the new now."""
        with self._lock:
            self._set(self._now() + delta)
            return self._now()

    def travel_to(self, moment: datetime) -> datetime:
        """Jump to `moment` (aware datetime) and keep ticking from there."""
        with self._lock:
            self._set(moment.astimezone(UTC))
            return self._now()

    def reset(self) -> None:
        """Go back to the start instant, or to real time when there is none."""
        with self._lock:
            self._set(self.start)
