"""The stand-in's notion of "now", which a test clock can move forward."""

from __future__ import annotations

import threading
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
    """Wall-clock time plus an offset that a test clock can change."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current (possibly shifted) UTC time."""
        with self._lock:
            return datetime.now(UTC) + self._offset

    def now_iso(self) -> str:
        """The current time formatted like Lago's timestamps."""
        return iso(self.now())  # type: ignore[return-value]

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward by `delta` and return the new now."""
        with self._lock:
            self._offset += delta
        return self.now()

    def travel_to(self, moment: datetime) -> datetime:
        """Jump to `moment` (aware datetime) and keep ticking from there."""
        with self._lock:
            self._offset = moment - datetime.now(UTC)
        return self.now()

    def reset(self) -> None:
        """Go back to real time."""
        with self._lock:
            self._offset = timedelta(0)
