"""What the pretend payment provider does next: payment outcomes, automatic retries, errors.

Not part of Lago. By default the card Lago charges decides (see `payment_methods.CARDS`); a test
can also say "the next payment for customer X fails, then succeeds" and the stand-in's payment
attempts (invoice finalization, `retry_payment`, scheduled retries) follow it. Settings are
global, or per external customer id (which win over the global ones).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

OUTCOMES = ("succeeded", "failed", "requires_action")
DEFAULT_ERROR_CODE = "card_declined"
DEFAULT_ERROR_MESSAGE = "Your card was declined."


@dataclass
class PaymentBehaviour:
    """How payment attempts for one scope (everyone, or one customer) turn out."""

    outcomes: list[str] = field(default_factory=list)  # consumed one per attempt
    default: str | None = None  # once `outcomes` is used up; None: the card decides
    error_code: str = DEFAULT_ERROR_CODE
    error_message: str = DEFAULT_ERROR_MESSAGE
    # Scheduled retries of a failed automatic payment, run by the clock (a dunning stand-in).
    retry_after_seconds: float | None = None
    max_retries: int = 0
    # Next creation of the customer at the provider fails with this message (once).
    provider_customer_error: str | None = None

    def check(self) -> PaymentBehaviour:
        """Raise ValueError on values the stand-in cannot act on."""
        for outcome in [*self.outcomes, self.default]:
            if outcome is not None and outcome not in OUTCOMES:
                raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        if self.retry_after_seconds is not None and self.retry_after_seconds <= 0:
            raise ValueError("retry_after_seconds must be positive")
        if self.max_retries < 0:
            raise ValueError("max_retries must not be negative")
        return self


class PaymentKnobs:
    """Thread-safe payment behaviours: a global one and per-customer overrides."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._global = PaymentBehaviour()
        self._customers: dict[str, PaymentBehaviour] = {}

    def set(self, external_customer_id: str | None = None, **changes: Any) -> PaymentBehaviour:
        """Replace the named settings of one scope (the others keep their values)."""
        known = {f.name for f in fields(PaymentBehaviour)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown payment setting(s): {', '.join(sorted(unknown))}")
        if "outcomes" in changes:
            changes["outcomes"] = list(changes["outcomes"] or [])
        with self._lock:
            base = self._scope(external_customer_id, create=True)
            updated = replace(base, **changes).check()
            if external_customer_id is None:
                self._global = updated
            else:
                self._customers[external_customer_id] = updated
            return replace(updated, outcomes=list(updated.outcomes))

    def behaviour(self, external_customer_id: str | None) -> PaymentBehaviour:
        """A copy of the settings that apply to a customer."""
        with self._lock:
            found = self._scope(external_customer_id)
            return replace(found, outcomes=list(found.outcomes))

    def next_outcome(self, external_customer_id: str | None) -> tuple[str | None, PaymentBehaviour]:
        """Take the next outcome for a customer's payment attempt (None: the card decides)."""
        with self._lock:
            scope = self._scope(external_customer_id)
            outcome = scope.outcomes.pop(0) if scope.outcomes else scope.default
            return outcome, replace(scope, outcomes=list(scope.outcomes))

    def take_provider_customer_error(self, external_customer_id: str | None) -> str | None:
        """The provider error for creating this customer at the provider (used once)."""
        with self._lock:
            scope = self._scope(external_customer_id)
            message, scope.provider_customer_error = scope.provider_customer_error, None
            return message

    def clear(self) -> None:
        """Back to: the card decides, no retries, no provider errors."""
        with self._lock:
            self._global = PaymentBehaviour()
            self._customers.clear()

    def current(self) -> dict[str, Any]:
        """Every scope as plain data."""
        with self._lock:
            return {
                "global": asdict(self._global),
                "customers": {k: asdict(v) for k, v in self._customers.items()},
            }

    def _scope(self, external_customer_id: str | None, *, create: bool = False) -> PaymentBehaviour:
        if external_customer_id is None:
            return self._global
        if external_customer_id not in self._customers:
            if not create:
                return self._global
            # A customer's own settings start as a copy of the global ones.
            self._customers[external_customer_id] = replace(
                self._global, outcomes=list(self._global.outcomes)
            )
        return self._customers[external_customer_id]
