"""`LagoClient`: the only code in Pier that speaks Lago HTTP."""

from __future__ import annotations

import json
import logging
import os
import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import certifi
import httpx

from portal.lago._network import error_for_transport
from portal.lago._responses import error_for_response, parse_json
from portal.lago.breaker import CircuitBreaker
from portal.lago.deadline import Deadline, current_deadline
from portal.lago.errors import (
    LagoAuthError,
    LagoDeadlineExceeded,
    LagoError,
    LagoFeatureUnavailable,
    LagoNotAllowed,
    LagoPreviewUnavailable,
    LagoTimeout,
    LagoTLSError,
    LagoUnexpectedResponse,
)
from portal.lago.retry import IDEMPOTENT_METHODS, RETRY_STATUSES, RetryPolicy
from portal.lago.types import (
    AppliedCoupon,
    BillableMetric,
    Coupon,
    CreditNote,
    Customer,
    CustomerUsage,
    Health,
    Invoice,
    InvoiceDetail,
    InvoicePreview,
    MrrPoint,
    NoUsageYet,
    Organization,
    OverdueBalance,
    Page,
    PageMeta,
    PaymentMethod,
    Plan,
    ProjectedUsage,
    Subscription,
    SubscriptionAlert,
    Wallet,
    WalletTransaction,
    WebhookEndpoint,
)
from portal.lago.urls import API_PREFIX, normalize_api_url
from portal.lago.webhook_key import UnreadableKey, read_public_key
from portal.observability import correlation, metrics

log = logging.getLogger(__name__)

T = TypeVar("T")
Params = Mapping[str, Any]
DEFAULT_PER_PAGE = 100
EVENTS_BATCH_LIMIT = 100  # lago-api Events::CreateBatchService::MAX_LENGTH
SIGNATURE_ALGOS = ("jwt", "hmac")
FILE_CHUNK_BYTES = 64 * 1024
FILE_REDIRECTS = 5


def segment(value: str) -> str:
    """One URL path segment; dots are escaped too because Rails reads `.x` as a format."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a Lago identifier must be a non-empty string")
    return quote(value, safe="").replace(".", "%2E")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} to Lago")


def _wrap(root: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """`{root: payload}`, unless the caller already wrapped it."""
    if set(payload) == {root} and isinstance(payload[root], Mapping):
        return dict(payload)
    return {root: dict(payload)}


def _ssl_context(verify: bool | str | os.PathLike[str] | ssl.SSLContext) -> bool | ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext) or verify is False:
        return verify
    try:
        if verify is True:
            context = ssl.create_default_context()  # the system store, plus certifi below
            context.load_verify_locations(cafile=certifi.where())
            return context
        path = os.fspath(verify)
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise LagoTLSError(
            "The certificate bundle for Lago could not be loaded.",
            hint="Check the path of the CA bundle configured for Lago.",
            details={"reason": str(exc)},
        ) from exc


def _traced() -> dict[str, str] | None:
    """The header that lets Lago's logs be matched with Pier's: the current request id."""
    request_id = correlation.current()
    return {"X-Request-ID": request_id} if request_id else None


def _observe(
    method: str, path: str, status: int | None, seconds: float, error: LagoError | None
) -> None:
    """Time, count and log one call to Lago (retries included)."""
    shown = metrics.lago_path(path)
    metrics.LAGO_LATENCY.labels(method, shown).observe(seconds)
    if error is not None:
        metrics.LAGO_ERRORS.labels(method, shown, type(error).__name__).inc()
    log.log(
        logging.WARNING if error is not None else logging.INFO,
        "Lago %s %s: %s",
        method,
        path,
        status if status is not None else type(error).__name__,
        extra={
            "lago_method": method,
            "lago_path": path,
            "lago_status": status,
            "duration_ms": round(seconds * 1000, 1),
            **({"lago_error": type(error).__name__} if error is not None else {}),
        },
    )


def _clean_key(api_key: str | None) -> str:
    key = (api_key or "").strip()
    if key and not (key.isascii() and key.isprintable() and " " not in key):
        raise LagoAuthError("The Lago API key contains characters a key cannot have.")
    return key


class LagoClient:
    """A pooled, retrying client for the Lago REST API that returns typed results."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str | os.PathLike[str] | ssl.SSLContext = True,
        user_agent: str = "Pier",
        rng: random.Random | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.api_url = normalize_api_url(api_url)
        self.api_v1_url = self.api_url + API_PREFIX
        self.retry = RetryPolicy(max_retries, backoff_base, backoff_max, rng or random.Random())
        self._sleep = sleep
        self.breaker = breaker
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": user_agent,
        }
        key = _clean_key(api_key)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._connect_timeout, self._read_timeout = connect_timeout, read_timeout
        timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        )
        self._http = httpx.Client(
            headers=headers,
            timeout=timeout,
            transport=transport,
            verify=True if transport is not None else _ssl_context(verify),
            follow_redirects=False,
        )
        # Files behind Lago's `file_url` are public signed links (often redirected to object
        # storage): fetched without the API key, so the key never leaves for another host.
        self._files = httpx.Client(
            headers={"User-Agent": user_agent},
            timeout=timeout,
            transport=transport,
            verify=True if transport is not None else _ssl_context(verify),
            follow_redirects=True,
            max_redirects=FILE_REDIRECTS,
        )

    def __repr__(self) -> str:
        return f"LagoClient({self.api_url!r})"

    def __enter__(self) -> LagoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()
        self._files.close()

    # -- HTTP plumbing -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        idempotent: bool | None = None,
        under_api: bool = True,
    ) -> Any:
        """Send one call (retrying when safe) and return the decoded JSON, or None if empty."""
        method = method.upper()
        url = (self.api_v1_url if under_api else self.api_url) + path
        retryable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        content = None
        if body is not None:
            content = json.dumps(body, default=_json_default, separators=(",", ":")).encode()
        label = f"{method} {path}"
        started = time.perf_counter()
        status: int | None = None
        try:
            if self.breaker is not None:
                self.breaker.before_call()
            try:
                response = self._send(method, url, params, content, retryable, label)
                status = response.status_code
                if not 200 <= response.status_code < 300:
                    raise error_for_response(response)
            except LagoError as error:
                if self.breaker is not None:
                    self.breaker.record(error)
                raise
            if self.breaker is not None:
                self.breaker.record(None)
            result = parse_json(response)
        except LagoError as error:
            error.request = label
            _observe(method, path, status, time.perf_counter() - started, error)
            raise
        _observe(method, path, status, time.perf_counter() - started, None)
        return result

    def _timeout_within(self, deadline: Deadline | None) -> httpx.Timeout | None:
        """This attempt's timeouts, each cut to what is left of the deadline."""
        if deadline is None:
            return None
        if deadline.ran_out():
            raise LagoDeadlineExceeded(deadline.seconds)
        left = deadline.left()
        connect, read = min(self._connect_timeout, left), min(self._read_timeout, left)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    @staticmethod
    def _fits(delay: float, deadline: Deadline | None) -> bool:
        """Whether waiting `delay` still leaves time for another attempt."""
        return deadline is None or delay < deadline.left()

    def _send(
        self,
        method: str,
        url: str,
        params: Params | None,
        content: bytes | None,
        retryable: bool,
        label: str,
    ) -> httpx.Response:
        deadline = current_deadline()
        attempt = 0
        while True:
            timeout = self._timeout_within(deadline)
            options = {} if timeout is None else {"timeout": timeout}
            try:
                response = self._http.request(
                    method, url, params=params, content=content, headers=_traced(), **options
                )
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                error = error_for_transport(exc)
                if deadline is not None and isinstance(error, LagoTimeout) and deadline.ran_out():
                    error = LagoDeadlineExceeded(deadline.seconds, details=error.details)
                if not (retryable and error.transient and attempt < self.retry.max_retries):
                    raise error from exc
                delay = self.retry.backoff(attempt)
                if not self._fits(delay, deadline):
                    raise error from exc
                reason = type(error).__name__
            else:
                status = response.status_code
                if not (
                    retryable and status in RETRY_STATUSES and attempt < self.retry.max_retries
                ):
                    return response
                delay = self.retry.delay_for_response(attempt, response)
                if not self._fits(delay, deadline):
                    return response
                reason = f"HTTP {status}"
                response.close()
            attempt += 1
            log.warning("Lago %s failed (%s); retry %d in %.2fs", label, reason, attempt, delay)
            self._sleep(delay)

    def _one(
        self,
        method: str,
        path: str,
        root: str,
        parse: Callable[[Mapping[str, Any]], T],
        **kwargs: Any,
    ) -> T:
        body = self.request(method, path, **kwargs)
        try:
            return _parse(_member(body, root), parse, root)
        except LagoError as error:
            error.request = f"{method} {path}"
            raise

    def fetch_page(
        self,
        path: str,
        key: str,
        parse: Callable[[Mapping[str, Any]], T],
        *,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        params: Params | None = None,
    ) -> Page[T]:
        """One page of a list, with its pagination block."""
        if per_page < 1 or page < 1:
            raise ValueError("page and per_page must be positive")
        body = self.request(
            "GET", path, params={**(params or {}), "page": page, "per_page": per_page}
        )
        raw_items = _member(body, key, list)
        items = tuple(_parse(item, parse, key) for item in raw_items)
        meta = body.get("meta") if isinstance(body, dict) else None
        if not isinstance(meta, Mapping):
            meta = {"current_page": page}
        return Page(items=items, meta=_parse(meta, PageMeta.from_api, "meta"))

    def paginate(
        self,
        path: str,
        key: str,
        parse: Callable[[Mapping[str, Any]], T],
        *,
        per_page: int = DEFAULT_PER_PAGE,
        params: Params | None = None,
    ) -> Iterator[T]:
        """Every item of a list, following `meta.next_page` until it is null."""
        page = 1
        while True:
            result = self.fetch_page(path, key, parse, page=page, per_page=per_page, params=params)
            yield from result.items
            next_page = result.meta.next_page
            if next_page is None:
                return
            last = result.meta.total_pages
            if next_page <= page or (last and next_page > last):
                raise LagoUnexpectedResponse(
                    "Lago sent page numbers that do not move forward.",
                    details={"path": path, "page": page, "next_page": next_page, "total": last},
                )
            page = next_page

    def _all(
        self, path: str, key: str, parse: Callable[[Mapping[str, Any]], T], **kw: Any
    ) -> list[T]:
        return list(self.paginate(path, key, parse, **kw))

    # -- Instance and organization --------------------------------------------------------------

    def _analytics(
        self, path: str, key: str, parse: Callable[[Mapping[str, Any]], T], **filters: Any
    ) -> list[T]:
        params = {k: v for k, v in filters.items() if v is not None}
        body = self.request("GET", path, params=params)
        return [_parse(item, parse, key) for item in _member(body, key, list)]

    def get_mrr(self, *, currency: str | None = None, months: int | None = None) -> list[MrrPoint]:
        """GET /analytics/mrr: monthly recurring revenue per month (a premium feature in Lago)."""
        return self._analytics(
            "/analytics/mrr", "mrrs", MrrPoint.from_api, currency=currency, months=months
        )

    def get_overdue_balances(
        self, *, currency: str | None = None, months: int | None = None
    ) -> list[OverdueBalance]:
        """GET /analytics/overdue_balance: what overdue invoices still owe, per due month."""
        return self._analytics(
            "/analytics/overdue_balance",
            "overdue_balances",
            OverdueBalance.from_api,
            currency=currency,
            months=months,
        )

    def health(self) -> Health:
        """GET /health (outside /api/v1): reachability and version, no key needed."""
        body = self.request("GET", "/health", under_api=False)
        if not isinstance(body, dict) or ("version" not in body and "message" not in body):
            raise LagoUnexpectedResponse(
                "The Lago URL did not answer like a Lago health check.",
                hint="Check that the URL points at the Lago API, not the Lago web app.",
            )
        return Health.from_api(body)

    def get_organization(self) -> Organization:
        """GET /organizations: proves the key works and names the organization."""
        return self._one("GET", "/organizations", "organization", Organization.from_api)

    # -- Plans and billable metrics -------------------------------------------------------------

    def list_plans(self, *, per_page: int = DEFAULT_PER_PAGE) -> list[Plan]:
        """All plans (Lago includes plans pending deletion)."""
        return self._all("/plans", "plans", Plan.from_api, per_page=per_page)

    def get_plan(self, code: str) -> Plan:
        """One plan by code."""
        return self._one("GET", f"/plans/{segment(code)}", "plan", Plan.from_api)

    def create_plan(self, payload: Mapping[str, Any]) -> Plan:
        """Create a plan from the fields of Lago's `plan` object (never retried)."""
        return self._one("POST", "/plans", "plan", Plan.from_api, body=_wrap("plan", payload))

    def update_plan(self, code: str, payload: Mapping[str, Any]) -> Plan:
        """Update a plan by code."""
        path = f"/plans/{segment(code)}"
        return self._one("PUT", path, "plan", Plan.from_api, body=_wrap("plan", payload))

    def delete_plan(self, code: str) -> Plan:
        """Delete a plan by code (Lago finishes the deletion in the background)."""
        return self._one("DELETE", f"/plans/{segment(code)}", "plan", Plan.from_api)

    def list_billable_metrics(self, *, per_page: int = DEFAULT_PER_PAGE) -> list[BillableMetric]:
        """All billable metrics."""
        return self._all(
            "/billable_metrics", "billable_metrics", BillableMetric.from_api, per_page=per_page
        )

    def create_billable_metric(self, payload: Mapping[str, Any]) -> BillableMetric:
        """Create a billable metric from the fields of Lago's `billable_metric` object."""
        body = _wrap("billable_metric", payload)
        return self._one(
            "POST", "/billable_metrics", "billable_metric", BillableMetric.from_api, body=body
        )

    def update_billable_metric(self, code: str, payload: Mapping[str, Any]) -> BillableMetric:
        """Update a billable metric by code (Lago keeps how it counts once a plan charges it)."""
        path = f"/billable_metrics/{segment(code)}"
        body = _wrap("billable_metric", payload)
        return self._one("PUT", path, "billable_metric", BillableMetric.from_api, body=body)

    # -- Customers ------------------------------------------------------------------------------

    def upsert_customer(self, payload: Mapping[str, Any]) -> Customer:
        """Create or update a customer by `external_id` (an upsert, so retried like a PUT)."""
        body = _wrap("customer", payload)
        if not body["customer"].get("external_id"):
            raise ValueError("a customer needs an external_id")
        return self._one(
            "POST", "/customers", "customer", Customer.from_api, body=body, idempotent=True
        )

    def get_customer(self, external_id: str) -> Customer:
        """One customer by our external id."""
        path = f"/customers/{segment(external_id)}"
        return self._one("GET", path, "customer", Customer.from_api)

    def list_customers(
        self, *, per_page: int = DEFAULT_PER_PAGE, params: Params | None = None
    ) -> list[Customer]:
        """All customers; `params` takes Lago's filters, e.g. {"search_term": "acme"}."""
        return self._all(
            "/customers", "customers", Customer.from_api, per_page=per_page, params=params
        )

    def delete_customer(self, external_id: str) -> Customer:
        """Delete a customer by our external id."""
        path = f"/customers/{segment(external_id)}"
        return self._one("DELETE", path, "customer", Customer.from_api)

    # -- Subscriptions, invoices, usage, wallets, payment methods (reads) -----------------------

    def get_subscription(self, external_id: str, *, status: str | None = None) -> Subscription:
        """One subscription by our external id (Lago defaults to the active one)."""
        params = {"status": status} if status else None
        path = f"/subscriptions/{segment(external_id)}"
        return self._one("GET", path, "subscription", Subscription.from_api, params=params)

    def create_subscription(self, payload: Mapping[str, Any]) -> Subscription:
        """Subscribe a customer to a plan (`external_customer_id`, `plan_code`, `external_id`).

        Lago answers a repeat with the same `external_id` and plan with the subscription it
        already has, so the call is retried like a PUT. Another plan changes its plan.
        """
        body = _wrap("subscription", payload)
        return self._one(
            "POST",
            "/subscriptions",
            "subscription",
            Subscription.from_api,
            body=body,
            idempotent=True,
        )

    def list_subscriptions(
        self,
        *,
        external_customer_id: str | None = None,
        plan_code: str | None = None,
        statuses: list[str] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> list[Subscription]:
        """Subscriptions, by default only active ones (Lago's default)."""
        params: dict[str, Any] = {}
        if external_customer_id:
            params["external_customer_id"] = external_customer_id
        if plan_code:
            params["plan_code"] = plan_code
        if statuses:
            params["status[]"] = list(statuses)
        return self._all(
            "/subscriptions",
            "subscriptions",
            Subscription.from_api,
            per_page=per_page,
            params=params,
        )

    # -- Subscriptions (writes) -------------------------------------------------------------------

    def update_subscription(
        self, external_id: str, values: Mapping[str, Any], *, status: str | None = None
    ) -> Subscription:
        """PUT /subscriptions/{external_id}: e.g. `ending_at` to cancel at a date, None to undo."""
        params = {"status": status} if status else None
        path = f"/subscriptions/{segment(external_id)}"
        body = {"subscription": dict(values)}
        return self._one(
            "PUT", path, "subscription", Subscription.from_api, body=body, params=params
        )

    def terminate_subscription(
        self,
        external_id: str,
        *,
        status: str | None = None,
        credit_note: str | None = None,
        invoice: str | None = None,
    ) -> Subscription:
        """DELETE /subscriptions/{external_id}: end it now, or (status=pending) drop a downgrade."""
        params = {
            key: value
            for key, value in {
                "status": status,
                "on_termination_credit_note": credit_note,
                "on_termination_invoice": invoice,
            }.items()
            if value
        }
        path = f"/subscriptions/{segment(external_id)}"
        return self._one(
            "DELETE", path, "subscription", Subscription.from_api, params=params or None
        )

    def get_invoice(self, lago_id: str) -> Invoice:
        """One invoice by its Lago id."""
        return self._one("GET", f"/invoices/{segment(lago_id)}", "invoice", Invoice.from_api)

    def list_invoices(
        self,
        *,
        external_customer_id: str | None = None,
        per_page: int = DEFAULT_PER_PAGE,
        params: Params | None = None,
    ) -> list[Invoice]:
        """Invoices, optionally for one customer; `params` takes Lago's other filters."""
        query = dict(params or {})
        if external_customer_id:
            query["external_customer_id"] = external_customer_id
        return self._all("/invoices", "invoices", Invoice.from_api, per_page=per_page, params=query)

    def retry_invoice_payment(self, lago_id: str) -> None:
        """POST /invoices/{id}/retry_payment: charge the invoice again (Lago answers an empty 200;
        405 `payment_processor_is_currently_handling_payment` while a payment is in progress)."""
        self.request("POST", f"/invoices/{segment(lago_id)}/retry_payment")

    def invoice_payment_url(self, lago_id: str) -> str:
        """POST /invoices/{id}/payment_url: the provider's page where the customer pays it."""
        body = self.request("POST", f"/invoices/{segment(lago_id)}/payment_url")
        details = _member(body, "invoice_payment_details")
        url = details.get("payment_url") if isinstance(details, Mapping) else None
        if not isinstance(url, str) or not url:
            raise LagoUnexpectedResponse("Lago sent no payment_url.", details={"id": lago_id})
        return url

    def get_invoice_detail(self, lago_id: str) -> InvoiceDetail:
        """One invoice with its fees, credits, taxes and the customer printed on it."""
        path = f"/invoices/{segment(lago_id)}"
        return self._one("GET", path, "invoice", InvoiceDetail.from_api)

    def download_invoice(self, lago_id: str) -> Invoice | None:
        """POST /invoices/{id}/download: the invoice with its `file_url` once the PDF exists;
        None while Lago generates it (it answers an empty 200, then sends `invoice.generated`).
        Only finalized invoices can be downloaded (others are `LagoNotFound`)."""
        path = f"/invoices/{segment(lago_id)}/download"
        body = self.request("POST", path, idempotent=True)
        if body is None:
            return None
        return _parse(_member(body, "invoice"), Invoice.from_api, "invoice")

    @contextmanager
    def open_file(self, url: str, *, within: float) -> Iterator[Iterator[bytes]]:
        """Stream a file Lago links to (`file_url`) in chunks, following its redirects; the
        body is never held whole in memory. The answer must start within the current deadline
        and the whole body arrive within `within` seconds (else `LagoDeadlineExceeded`).
        Transport failures and non-2xx are `LagoError`s."""
        if not url.lower().startswith(("http://", "https://")):
            raise LagoUnexpectedResponse("Lago sent a file address Pier cannot fetch.")
        timeout = self._timeout_within(current_deadline())
        options = {} if timeout is None else {"timeout": timeout}
        try:
            with self._files.stream("GET", url, **options) as response:
                if not 200 <= response.status_code < 300:
                    response.read()
                    raise error_for_response(response)
                yield self._chunks(response, time.monotonic() + within, within)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise error_for_transport(exc) from exc

    @staticmethod
    def _chunks(response: httpx.Response, ends: float, within: float) -> Iterator[bytes]:
        for chunk in response.iter_bytes(FILE_CHUNK_BYTES):
            if time.monotonic() > ends:
                raise LagoDeadlineExceeded(within, details={"request": "GET file"})
            yield chunk

    def list_credit_notes(
        self, external_customer_id: str, *, per_page: int = DEFAULT_PER_PAGE
    ) -> list[CreditNote]:
        """A customer's credit notes."""
        params = {"external_customer_id": external_customer_id}
        return self._all(
            "/credit_notes", "credit_notes", CreditNote.from_api, per_page=per_page, params=params
        )

    def get_credit_note(self, lago_id: str) -> CreditNote:
        """One credit note by its Lago id."""
        path = f"/credit_notes/{segment(lago_id)}"
        return self._one("GET", path, "credit_note", CreditNote.from_api)

    def get_current_usage(
        self, external_customer_id: str, external_subscription_id: str
    ) -> CustomerUsage | NoUsageYet:
        """Usage so far in the current period of one subscription, or `NoUsageYet` when Lago
        has no active subscription with this id (405 `no_active_subscription`)."""
        path = f"/customers/{segment(external_customer_id)}/current_usage"
        params = {"external_subscription_id": external_subscription_id}
        try:
            return self._one("GET", path, "customer_usage", CustomerUsage.from_api, params=params)
        except LagoNotAllowed as error:
            if error.code != "no_active_subscription":
                raise
            return NoUsageYet(external_customer_id, external_subscription_id)

    def get_projected_usage(
        self, external_customer_id: str, external_subscription_id: str
    ) -> ProjectedUsage | NoUsageYet:
        """Lago's projection of the current period to its end. Raises `LagoForbidden`
        (403 `projected_usage_not_enabled`) unless the organization has that premium
        integration; `NoUsageYet` as for `get_current_usage`."""
        path = f"/customers/{segment(external_customer_id)}/projected_usage"
        params = {"external_subscription_id": external_subscription_id}
        try:
            return self._one(
                "GET", path, "customer_projected_usage", ProjectedUsage.from_api, params=params
            )
        except LagoNotAllowed as error:
            if error.code != "no_active_subscription":
                raise
            return NoUsageYet(external_customer_id, external_subscription_id)

    def create_subscription_alert(
        self, external_subscription_id: str, alert: Mapping[str, Any]
    ) -> SubscriptionAlert:
        """A usage alert Lago evaluates on the subscription's current usage (`alert_type`,
        `code`, `thresholds`, and `billable_metric_code` for a metric). Not retried: a repeat
        answers 422 `value_already_exist` on the code."""
        path = f"/subscriptions/{segment(external_subscription_id)}/alerts"
        body = self.request("POST", path, body={"alert": dict(alert)})
        return _parse(_member(body, "alert"), SubscriptionAlert.from_api, "alert")

    def get_subscription_alert(self, external_subscription_id: str, code: str) -> SubscriptionAlert:
        """One of the subscription's alerts, with when Lago last evaluated it."""
        path = f"/subscriptions/{segment(external_subscription_id)}/alerts/{segment(code)}"
        return self._one("GET", path, "alert", SubscriptionAlert.from_api)

    def delete_subscription_alert(
        self, external_subscription_id: str, code: str
    ) -> SubscriptionAlert:
        """Stop one of the subscription's alerts (404 `alert_not_found` when it is gone)."""
        path = f"/subscriptions/{segment(external_subscription_id)}/alerts/{segment(code)}"
        return self._one("DELETE", path, "alert", SubscriptionAlert.from_api)

    def send_events(self, events: Sequence[Mapping[str, Any]]) -> None:
        """POST /events/batch: up to 100 usage events, stored all or none.

        Not retried here: the caller keeps the events and sends them again later; Lago refuses a
        repeat of a stored `transaction_id` with 422 `value_already_exist` under the event's
        index, which tells the caller that this event is already counted.
        """
        if not 0 < len(events) <= EVENTS_BATCH_LIMIT:
            raise ValueError(f"a batch holds 1 to {EVENTS_BATCH_LIMIT} events")
        self.request("POST", "/events/batch", body={"events": list(events)}, idempotent=False)

    def get_past_usage(
        self,
        external_customer_id: str,
        external_subscription_id: str,
        *,
        periods_count: int | None = None,
        billable_metric_code: str | None = None,
        page: int = 1,
    ) -> Page[CustomerUsage]:
        """Billed usage periods of one subscription, newest first; `periods_count` periods
        per page (Lago caps the page with it)."""
        path = f"/customers/{segment(external_customer_id)}/past_usage"
        params: dict[str, Any] = {"external_subscription_id": external_subscription_id}
        if periods_count is not None:
            params["periods_count"] = periods_count
        if billable_metric_code is not None:
            params["billable_metric_code"] = billable_metric_code
        return self.fetch_page(
            path,
            "usage_periods",
            CustomerUsage.from_api,
            page=page,
            per_page=periods_count or DEFAULT_PER_PAGE,
            params=params,
        )

    def preview_invoice(
        self,
        external_customer_id: str,
        *,
        plan_code: str | None = None,
        subscription_ids: tuple[str, ...] | list[str] = (),
        new_plan_code: str | None = None,
        terminated_at: datetime | None = None,
        subscription_at: datetime | None = None,
        billing_time: str | None = None,
    ) -> InvoicePreview:
        """What Lago would invoice: a new subscription to `plan_code`, or for the subscriptions
        `subscription_ids` a plan change to `new_plan_code`, their termination at
        `terminated_at`, or (neither) their next invoice. Nothing is stored, so it is retried
        like a read. Raises `LagoPreviewUnavailable` when this Lago does not preview."""
        body: dict[str, Any] = {"customer": {"external_id": external_customer_id}}
        if plan_code is not None:
            body["plan_code"] = plan_code
        if subscription_at is not None:
            body["subscription_at"] = subscription_at
        if billing_time is not None:
            body["billing_time"] = billing_time
        if subscription_ids:
            wanted: dict[str, Any] = {"external_ids": list(subscription_ids)}
            if new_plan_code is not None:
                wanted["plan_code"] = new_plan_code
            if terminated_at is not None:
                wanted["terminated_at"] = terminated_at
            body["subscriptions"] = wanted
        try:
            return self._one(
                "POST",
                "/invoices/preview",
                "invoice",
                InvoicePreview.from_api,
                body=body,
                idempotent=True,
            )
        except LagoFeatureUnavailable as error:
            unavailable = LagoPreviewUnavailable(
                status=error.status, code=error.code, details=error.details
            )
            unavailable.request = error.request
            raise unavailable from error

    def list_wallets(
        self, external_customer_id: str, *, per_page: int = DEFAULT_PER_PAGE
    ) -> list[Wallet]:
        """A customer's wallets."""
        params = {"external_customer_id": external_customer_id}
        return self._all("/wallets", "wallets", Wallet.from_api, per_page=per_page, params=params)

    def create_wallet_alert(
        self, external_customer_id: str, wallet_code: str, alert: Mapping[str, Any]
    ) -> SubscriptionAlert:
        """An alert Lago evaluates on one wallet's balance going down (`wallet_*` types)."""
        path = self._wallet_alerts(external_customer_id, wallet_code)
        body = self.request("POST", path, body={"alert": dict(alert)})
        return _parse(_member(body, "alert"), SubscriptionAlert.from_api, "alert")

    def delete_wallet_alert(
        self, external_customer_id: str, wallet_code: str, code: str
    ) -> SubscriptionAlert:
        """Stop one of the wallet's alerts (404 `alert_not_found` when it is gone)."""
        path = f"{self._wallet_alerts(external_customer_id, wallet_code)}/{segment(code)}"
        return self._one("DELETE", path, "alert", SubscriptionAlert.from_api)

    @staticmethod
    def _wallet_alerts(external_customer_id: str, wallet_code: str) -> str:
        return f"/customers/{segment(external_customer_id)}/wallets/{segment(wallet_code)}/alerts"

    def get_wallet(self, lago_id: str) -> Wallet:
        """One wallet by its Lago id."""
        return self._one("GET", f"/wallets/{segment(lago_id)}", "wallet", Wallet.from_api)

    def create_wallet(
        self,
        external_customer_id: str,
        *,
        currency: str,
        rate_amount: Decimal | str = "1",
        name: str | None = None,
        granted_credits: Decimal | str | None = None,
    ) -> Wallet:
        """Open a wallet of prepaid credits for a customer (one credit is `rate_amount` of
        `currency`). Not retried: a repeat would open a second wallet."""
        wallet: dict[str, Any] = {
            "external_customer_id": external_customer_id,
            "currency": currency,
            "rate_amount": str(rate_amount),
        }
        if name is not None:
            wallet["name"] = name
        if granted_credits is not None:
            wallet["granted_credits"] = str(granted_credits)
        body = self.request("POST", "/wallets", body={"wallet": wallet})
        return _parse(_member(body, "wallet"), Wallet.from_api, "wallet")

    def list_wallet_transactions(
        self, wallet_lago_id: str, *, per_page: int = DEFAULT_PER_PAGE, page: int = 1
    ) -> Page[WalletTransaction]:
        """One page of a wallet's transactions, newest first."""
        path = f"/wallets/{segment(wallet_lago_id)}/wallet_transactions"
        return self.fetch_page(
            path, "wallet_transactions", WalletTransaction.from_api, page=page, per_page=per_page
        )

    def top_up_wallet(
        self,
        wallet_lago_id: str,
        *,
        paid_credits: Decimal | str | None = None,
        granted_credits: Decimal | str | None = None,
        name: str | None = None,
    ) -> list[WalletTransaction]:
        """Add credits: paid ones are invoiced and stay pending until that invoice is paid,
        granted ones count at once. Lago answers the purchase first, then the grant. Not
        retried: a repeat would add the credits twice."""
        top_up: dict[str, Any] = {"wallet_id": wallet_lago_id}
        if paid_credits is not None:
            top_up["paid_credits"] = str(paid_credits)
        if granted_credits is not None:
            top_up["granted_credits"] = str(granted_credits)
        if name is not None:
            top_up["name"] = name
        body = self.request("POST", "/wallet_transactions", body={"wallet_transaction": top_up})
        items = _member(body, "wallet_transactions", list)
        return [_parse(item, WalletTransaction.from_api, "wallet_transactions") for item in items]

    # -- Coupons ----------------------------------------------------------------------------------

    def list_coupons(self, *, per_page: int = DEFAULT_PER_PAGE) -> list[Coupon]:
        """Every coupon of the organization's catalogue (terminated ones included)."""
        return self._all("/coupons", "coupons", Coupon.from_api, per_page=per_page)

    def list_applied_coupons(
        self,
        external_customer_id: str,
        *,
        status: str | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> list[AppliedCoupon]:
        """The coupons applied to a customer (`status`: active or terminated), oldest first."""
        path = f"/customers/{segment(external_customer_id)}/applied_coupons"
        params = {"status": status} if status else None
        return self._all(
            path, "applied_coupons", AppliedCoupon.from_api, per_page=per_page, params=params
        )

    def apply_coupon(self, external_customer_id: str, coupon_code: str) -> AppliedCoupon:
        """Apply a coupon to a customer on the coupon's own terms. Not retried: a repeat would
        apply a reusable coupon twice."""
        body = {"external_customer_id": external_customer_id, "coupon_code": coupon_code}
        answer = self.request("POST", "/applied_coupons", body={"applied_coupon": body})
        return _parse(_member(answer, "applied_coupon"), AppliedCoupon.from_api, "applied_coupon")

    def remove_applied_coupon(self, external_customer_id: str, lago_id: str) -> AppliedCoupon:
        """Stop an applied coupon (Lago terminates it; invoices already issued keep it)."""
        path = f"/customers/{segment(external_customer_id)}/applied_coupons/{segment(lago_id)}"
        return self._one("DELETE", path, "applied_coupon", AppliedCoupon.from_api)

    def list_payment_methods(
        self, external_customer_id: str, *, per_page: int = DEFAULT_PER_PAGE
    ) -> list[PaymentMethod]:
        """A customer's payment methods as synced from the provider."""
        path = f"/customers/{segment(external_customer_id)}/payment_methods"
        return self._all(path, "payment_methods", PaymentMethod.from_api, per_page=per_page)

    def set_default_payment_method(self, external_customer_id: str, lago_id: str) -> PaymentMethod:
        """Charge this payment method from now on (PUT .../set_as_default)."""
        path = (
            f"/customers/{segment(external_customer_id)}/payment_methods/"
            f"{segment(lago_id)}/set_as_default"
        )
        return self._one("PUT", path, "payment_method", PaymentMethod.from_api)

    # -- Webhooks -------------------------------------------------------------------------------

    def list_webhook_endpoints(self, *, per_page: int = DEFAULT_PER_PAGE) -> list[WebhookEndpoint]:
        """All webhook endpoints of the organization (Lago allows at most 10)."""
        return self._all(
            "/webhook_endpoints", "webhook_endpoints", WebhookEndpoint.from_api, per_page=per_page
        )

    def create_webhook_endpoint(
        self,
        url: str,
        signature_algo: str = "jwt",
        *,
        name: str | None = None,
        event_types: list[str] | None = None,
    ) -> WebhookEndpoint:
        """Register a webhook URL; `event_types` None means every event."""
        if signature_algo not in SIGNATURE_ALGOS:
            raise ValueError(f"signature_algo must be one of {SIGNATURE_ALGOS}")
        endpoint: dict[str, Any] = {"webhook_url": url, "signature_algo": signature_algo}
        if name is not None:
            endpoint["name"] = name
        if event_types is not None:
            endpoint["event_types"] = list(event_types)
        return self._one(
            "POST",
            "/webhook_endpoints",
            "webhook_endpoint",
            WebhookEndpoint.from_api,
            body={"webhook_endpoint": endpoint},
        )

    def delete_webhook_endpoint(self, lago_id: str) -> WebhookEndpoint:
        """Remove a webhook endpoint by its Lago id."""
        path = f"/webhook_endpoints/{segment(lago_id)}"
        return self._one("DELETE", path, "webhook_endpoint", WebhookEndpoint.from_api)

    def get_webhook_public_key(self) -> str:
        """The PEM public key that verifies JWT-signed webhooks (Lago serves it base64-encoded)."""
        body = self.request("GET", "/webhooks/json_public_key")
        encoded = _member(body, "webhook").get("public_key")
        try:
            return read_public_key(encoded if isinstance(encoded, str) else None)
        except UnreadableKey as exc:
            raise LagoUnexpectedResponse(
                f"Lago sent a webhook public key Pier cannot read. {exc}"
            ) from exc


def _member(body: Any, key: str, kind: type = dict) -> Any:
    """`body[key]`, checked to be a JSON object (or list)."""
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, kind):
        raise LagoUnexpectedResponse(details={"missing": key})
    return value


def _parse(data: Any, parse: Callable[[Mapping[str, Any]], T], what: str) -> T:
    if not isinstance(data, Mapping):
        raise LagoUnexpectedResponse(details={"invalid": what})
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise LagoUnexpectedResponse(details={"invalid": what, "reason": repr(exc)}) from exc
