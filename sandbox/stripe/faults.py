"""Fault injection in front of the Stripe routes: latency, errors, timeouts and outages."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..common import faults as common
from ..common.faults import DOWN_MODES, UNTOUCHED_PREFIXES, BaseFaultInjector
from . import errors


@dataclass
class Faults(common.Faults):
    """Stripe's faults: the shared ones plus the `Stripe-Should-Retry` header to send."""

    should_retry: bool | None = None


class FaultInjector(BaseFaultInjector):
    """Holds the active faults and answers injected errors with Stripe's error body."""

    faults_type = Faults

    def check(self, faults: common.Faults) -> None:
        """The shared checks, and error statuses limited to 4xx and 5xx."""
        super().check(faults)
        if not 400 <= int(faults.error_status) <= 599:
            raise ValueError("error_status must be a 4xx or 5xx status")

    def respond(self, start_response: Callable, status: int, faults: common.Faults) -> list[bytes]:
        """Stripe's pretty-printed error body, with `Stripe-Should-Retry` when set."""
        should_retry = getattr(faults, "should_retry", None)
        data = json.dumps(errors.for_status(status).body(), indent=2).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        if should_retry is not None:
            headers.append(("Stripe-Should-Retry", "true" if should_retry else "false"))
        start_response(f"{status} {errors.REASONS.get(status, 'Error')}", headers)
        return [data]


__all__ = ["DOWN_MODES", "UNTOUCHED_PREFIXES", "FaultInjector", "Faults"]
