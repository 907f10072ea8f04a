"""The Stripe adapter: a `stripe.StripeClient` with the pinned API version, retries and timeouts.

Every call made while serving a request shares one total deadline (`STRIPE_REQUEST_DEADLINE`
seconds from the first call): each HTTP attempt gets at most the time left, and no attempt
starts after it. Stripe's errors become `portal.payments.errors`.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import stripe

from portal.observability import metrics
from portal.payments import errors
from portal.payments.types import Account, CardInfo, SetupIntentInfo, StripeCustomer

T = TypeVar("T")
log = logging.getLogger(__name__)

#: The API version Pier speaks; the stripe library's own pin, written down so an upgrade is seen.
API_VERSION = "2026-10-28.endive"

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "stripe_deadline", default=None
)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every Stripe call in the block must finish within `seconds` from now, retries included."""
    current = _deadline.get()
    mine = time.monotonic() + seconds
    token = _deadline.set(mine if current is None else min(current, mine))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (None: no deadline)."""
    ends = _deadline.get()
    return None if ends is None else ends - time.monotonic()


class _DeadlineHTTPClient(stripe.RequestsClient):
    """requests, with each attempt's timeout cut to the deadline's time left."""

    def __init__(self, connect_timeout: float, read_timeout: float, **kwargs: Any) -> None:
        super().__init__(timeout=(connect_timeout, read_timeout), **kwargs)
        self._configured = (connect_timeout, read_timeout)

    @property
    def _timeout(self):  # read by RequestsClient for every attempt
        left = remaining()
        if left is None:
            return self._configured
        if left <= 0:
            raise stripe.APIConnectionError("The request deadline has passed.", should_retry=False)
        return tuple(min(part, left) for part in self._configured)

    @_timeout.setter
    def _timeout(self, value) -> None:
        self._configured = value if isinstance(value, tuple) else (value, value)

    def request(self, method, url, headers, post_data=None):
        """One HTTP attempt, timed, counted and logged with Stripe's own request id."""
        path = metrics.stripe_path(urlsplit(url).path)
        started = time.perf_counter()
        try:
            content, status, answer_headers = super().request(method, url, headers, post_data)
        except stripe.StripeError as exc:
            _observe(method.upper(), path, None, time.perf_counter() - started, type(exc).__name__)
            raise
        error = None if status < 400 else f"HTTP {status}"
        stripe_id = (answer_headers or {}).get("Request-Id")
        _observe(method.upper(), path, status, time.perf_counter() - started, error, stripe_id)
        return content, status, answer_headers


def _observe(
    method: str,
    path: str,
    status: int | None,
    seconds: float,
    error: str | None,
    stripe_request_id: str | None = None,
) -> None:
    metrics.STRIPE_LATENCY.labels(method, path).observe(seconds)
    if error is not None:
        metrics.STRIPE_ERRORS.labels(method, path, error).inc()
    log.log(
        logging.WARNING if error is not None else logging.INFO,
        "Stripe %s %s: %s",
        method,
        path,
        status if status is not None else error,
        extra={
            "stripe_method": method,
            "stripe_path": path,
            "stripe_status": status,
            "stripe_request_id": stripe_request_id,
            "duration_ms": round(seconds * 1000, 1),
        },
    )


class Payments:
    """Pier's calls to Stripe, returning typed results and raising `PaymentError`s."""

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str | None = None,
        max_retries: int = 2,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
    ) -> None:
        if not secret_key:
            raise errors.NotConfigured("no Stripe secret key")
        addresses = {"api": api_base.rstrip("/")} if api_base else {}
        self._stripe = stripe.StripeClient(
            secret_key,
            stripe_version=API_VERSION,
            base_addresses=addresses,
            max_network_retries=max_retries,
            http_client=_DeadlineHTTPClient(connect_timeout, read_timeout),
        )

    # -- plumbing ------------------------------------------------------------------------------

    def _call(self, send: Callable[[], T]) -> T:
        try:
            return send()
        except stripe.CardError as exc:
            raise errors.for_code(exc.code, _decline_code(exc), exc.user_message or "") from exc
        except (stripe.AuthenticationError, stripe.PermissionError) as exc:
            raise errors.BadKey(exc.user_message or "", code=exc.code) from exc
        except stripe.InvalidRequestError as exc:
            kind = errors.NotFound if exc.code == "resource_missing" else errors.InvalidRequest
            raise kind(exc.user_message or "", code=exc.code) from exc
        except stripe.APIConnectionError as exc:
            left = remaining()
            kind = errors.Timeout if left is not None and left <= 0 else errors.Unavailable
            raise kind(exc.user_message or "") from exc
        except (stripe.RateLimitError, stripe.APIError) as exc:
            raise errors.Unavailable(exc.user_message or "", code=exc.code) from exc
        except stripe.StripeError as exc:
            raise errors.PaymentError(exc.user_message or "", code=exc.code) from exc

    # -- account -------------------------------------------------------------------------------

    def account(self) -> Account:
        """The account the secret key belongs to (the connection test)."""
        return self._call(lambda: Account.from_stripe(self._stripe.v1.accounts.retrieve_current()))

    # -- customers -----------------------------------------------------------------------------

    def create_customer(
        self, *, name: str, email: str | None, metadata: dict[str, str], idempotency_key: str
    ) -> StripeCustomer:
        """A new Stripe customer; the key makes a repeat return the first one."""
        params: dict[str, Any] = {"name": name, "metadata": metadata}
        if email:
            params["email"] = email
        return self._call(
            lambda: StripeCustomer.from_stripe(
                self._stripe.v1.customers.create(
                    params=params, options={"idempotency_key": idempotency_key}
                )
            )
        )

    def get_customer(self, customer_id: str) -> StripeCustomer:
        return self._call(
            lambda: StripeCustomer.from_stripe(self._stripe.v1.customers.retrieve(customer_id))
        )

    def set_default_card(self, customer_id: str, payment_method_id: str) -> StripeCustomer:
        """Invoices of this customer are charged to this card from now on."""
        params = {"invoice_settings": {"default_payment_method": payment_method_id}}
        return self._call(
            lambda: StripeCustomer.from_stripe(
                self._stripe.v1.customers.update(customer_id, params=params)
            )
        )

    # -- cards ---------------------------------------------------------------------------------

    def list_cards(self, customer_id: str) -> list[CardInfo]:
        """Every card on the customer, newest first."""

        def send() -> list[CardInfo]:
            page = self._stripe.v1.customers.payment_methods.list(
                customer_id, params={"type": "card", "limit": 100}
            )
            return [CardInfo.from_stripe(pm) for pm in page.auto_paging_iter()]

        return self._call(send)

    def get_card(self, payment_method_id: str) -> CardInfo:
        return self._call(
            lambda: CardInfo.from_stripe(
                self._stripe.v1.payment_methods.retrieve(payment_method_id)
            )
        )

    def remove_card(self, payment_method_id: str) -> CardInfo:
        """Detach the card from its customer (permanent)."""
        return self._call(
            lambda: CardInfo.from_stripe(self._stripe.v1.payment_methods.detach(payment_method_id))
        )

    # -- SetupIntents --------------------------------------------------------------------------

    def create_setup_intent(
        self, customer_id: str, *, metadata: dict[str, str], idempotency_key: str
    ) -> SetupIntentInfo:
        """A SetupIntent to save a card for charges while the customer is away (cards only)."""
        params = {
            "customer": customer_id,
            "usage": "off_session",
            "allowed_payment_method_types": ["card"],
            "metadata": metadata,
        }
        return self._call(
            lambda: SetupIntentInfo.from_stripe(
                self._stripe.v1.setup_intents.create(
                    params=params, options={"idempotency_key": idempotency_key}
                )
            )
        )

    def get_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo:
        return self._call(
            lambda: SetupIntentInfo.from_stripe(
                self._stripe.v1.setup_intents.retrieve(setup_intent_id)
            )
        )

    def cancel_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo:
        return self._call(
            lambda: SetupIntentInfo.from_stripe(
                self._stripe.v1.setup_intents.cancel(setup_intent_id)
            )
        )


def _decline_code(exc: stripe.StripeError) -> str | None:
    error = getattr(exc, "error", None)
    return getattr(error, "decline_code", None) if error is not None else None


def signature_problem(payload: str, header: str, secret: str, tolerance: int) -> str | None:
    """Why the Stripe-Signature header does not sign this payload with this secret in time
    (None: it does)."""
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        return str(exc.user_message or exc)
    return None
