"""The instant every test starts at, whatever today's date is.

Mid-month, mid-week, midday in UTC and clear of daylight-saving changes, so a test that moves
the clock N days crosses a known number of month ends. Pier's side is moved there with
time-machine (an autouse fixture), the stand-ins start their own clocks there.
"""

from __future__ import annotations

from datetime import UTC, datetime

START = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)
