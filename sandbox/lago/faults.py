"""Fault injection in front of the Lago routes: latency, errors, timeouts and outages."""

from __future__ import annotations

import json
from collections.abc import Callable

from ..common.faults import DOWN_MODES, BaseFaultInjector, Faults
from . import errors

CONTROL_PREFIX = "/_sandbox"


class FaultInjector(BaseFaultInjector):
    """Holds the active faults and answers injected errors with Lago's error body."""

    untouched_prefixes = (CONTROL_PREFIX,)

    def respond(self, start_response: Callable, status: int, faults: Faults) -> list[bytes]:
        """A compact Lago error body for `status`."""
        data = json.dumps(errors.body(status), separators=(",", ":")).encode()
        reason = errors.REASONS.get(status, "Error")
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(data))),
        ]
        start_response(f"{status} {reason}", headers)
        return [data]


__all__ = ["CONTROL_PREFIX", "DOWN_MODES", "FaultInjector", "Faults"]
