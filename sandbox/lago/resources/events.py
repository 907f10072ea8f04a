"""Usage events: `POST /events`, `POST /events/batch`, `GET /events/{transaction_id}`.

As with lago-api's Postgres event store, `transaction_id` is unique per external subscription
(a duplicate is 422 `value_already_exist`), `timestamp` is Unix seconds (an integer or a numeric
string; ISO 8601 is `invalid_format`), and the code and properties are only checked later by the
hourly post-validation, which sends `events.errors`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, jsonify

from .. import errors
from ..state import Standin, current
from . import (
    Problems,
    alerts,
    billable_metrics,
    blank,
    json_body,
    register_object,
    require,
    subscriptions,
    wallets,
)

bp = Blueprint("events", __name__)

KIND = "event"
BATCH_LIMIT = 100


def _key(external_subscription_id: str, transaction_id: str) -> str:
    return f"{external_subscription_id}/{transaction_id}"


def timestamp_ms(moment: datetime) -> str:
    """An event timestamp as lago-api renders it (`iso8601(3)`)."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def parse_timestamp(value: Any) -> datetime | None:
    """`BigDecimal(timestamp.to_s)` as seconds since the epoch, or None when not a number."""
    if isinstance(value, bool):
        return None
    try:
        seconds = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not seconds.is_finite():
        return None
    return datetime.fromtimestamp(float(seconds), UTC)


def serialize(standin: Standin, event: dict[str, Any], *, created: bool = False) -> dict[str, Any]:
    """An event as V1::EventSerializer renders it (customer unknown right after creation)."""
    return {
        "lago_id": event["id"],
        "transaction_id": event["transaction_id"],
        "lago_customer_id": None if created else event.get("customer_id"),
        "code": event["code"],
        "timestamp": event["timestamp"],
        "precise_total_amount_cents": event.get("precise_total_amount_cents"),
        "properties": event.get("properties") or {},
        "lago_subscription_id": None if created else event.get("subscription_id"),
        "external_subscription_id": event["external_subscription_id"],
        "created_at": event["created_at"],
    }


def _check(standin: Standin, params: dict[str, Any], problems: Problems, prefix: str = "") -> None:
    for name in ("transaction_id", "external_subscription_id", "code"):
        if blank(params.get(name)):
            problems.add(prefix + name, "value_is_mandatory")
    stamp = params.get("timestamp")
    if stamp is not None and parse_timestamp(stamp) is None:
        problems.add(prefix + "timestamp", "invalid_format")
    if not blank(params.get("transaction_id")) and not blank(
        params.get("external_subscription_id")
    ):
        key = _key(params["external_subscription_id"], params["transaction_id"])
        if standin.store.find(KIND, key) is not None:
            problems.add(prefix + "transaction_id", "value_already_exist")


def _build(standin: Standin, params: dict[str, Any]) -> dict[str, Any]:
    now = standin.clock.now()
    moment = parse_timestamp(params["timestamp"]) if params.get("timestamp") is not None else now
    sub = _subscription_at(standin, params["external_subscription_id"], moment)
    return {
        "transaction_id": params["transaction_id"],
        "external_subscription_id": params["external_subscription_id"],
        "code": params["code"],
        "timestamp": timestamp_ms(moment),
        "epoch": moment.timestamp(),
        "properties": params.get("properties") or {},
        "precise_total_amount_cents": _precise(params.get("precise_total_amount_cents")),
        "subscription_id": sub["id"] if sub else None,
        "customer_id": sub["customer_id"] if sub else None,
        "validated": False,
    }


def _precise(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return str(Decimal(str(value)))
    except InvalidOperation:
        return None


def _subscription_at(standin: Standin, external_id: str, moment: datetime) -> dict | None:
    return subscriptions.for_event(standin, external_id, moment)


def ingest(standin: Standin, params: dict[str, Any]) -> dict[str, Any]:
    """Store one event (422 on missing fields, a bad timestamp or a duplicate transaction id)."""
    problems = Problems()
    _check(standin, params, problems)
    problems.raise_if_any()
    event = _build(standin, params)
    event = standin.store.insert(
        KIND, event, key=_key(event["external_subscription_id"], event["transaction_id"])
    )
    _after_ingest(standin, [event])
    return event


def ingest_batch(standin: Standin, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Store up to 100 events, all or none (errors keyed by the event's index)."""
    if not items:
        raise errors.single_validation_error("no_events", "events")
    if len(items) > BATCH_LIMIT:
        raise errors.single_validation_error("too_many_events", "events")
    problems = Problems()
    seen: set[str] = set()
    for index, params in enumerate(items):
        _check(standin, params, problems, prefix=f"{index}.")
        key = _key(str(params.get("external_subscription_id")), str(params.get("transaction_id")))
        if key in seen:
            problems.add(f"{index}.transaction_id", "value_already_exist")
        seen.add(key)
    if problems.details:
        raise errors.validation_errors(_by_index(problems.details))
    with standin.store.transaction():
        stored = [
            standin.store.insert(
                KIND, event, key=_key(event["external_subscription_id"], event["transaction_id"])
            )
            for event in (_build(standin, params) for params in items)
        ]
    _after_ingest(standin, stored)
    return stored


def _by_index(details: dict[str, list[str]]) -> dict[str, Any]:
    grouped: dict[str, Any] = {}
    for name, codes in details.items():
        index, _, field = name.partition(".")
        grouped.setdefault(index, {})[field] = codes
    return grouped


def _after_ingest(standin: Standin, events: list[dict[str, Any]]) -> None:
    """Refresh the ongoing balance of the customers' wallets (depletion webhooks) and process
    the subscriptions' usage alerts."""
    for customer_id in {e["customer_id"] for e in events if e.get("customer_id")}:
        wallets.refresh_ongoing_balances(standin, customer_id)
    alerts.after_events(
        standin, {e["external_subscription_id"] for e in events if e.get("subscription_id")}
    )


def in_window(
    standin: Standin,
    external_subscription_id: str,
    code: str | None,
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """Events of a subscription (and metric code) with start <= timestamp < end, oldest first."""
    low, high = start.timestamp(), end.timestamp()
    return standin.store.all(
        KIND,
        newest_first=False,
        where=lambda e: (
            e["external_subscription_id"] == external_subscription_id
            and (code is None or e["code"] == code)
            and low <= e["epoch"] < high
        ),
    )


def post_validate(standin: Standin) -> dict[str, list[str]] | None:
    """Clock::EventsValidationJob: flag events with an unknown code or a missing property."""
    pending = standin.store.all(KIND, newest_first=False, where=lambda e: not e.get("validated"))
    if not pending:
        return None
    report: dict[str, list[str]] = {
        "invalid_code": [],
        "missing_aggregation_property": [],
        "invalid_filter_values": [],
        "missing_group_key": [],
    }
    with standin.store.transaction():
        for event in pending:
            metric = billable_metrics.find(standin, event["code"])
            if metric is None:
                report["invalid_code"].append(event["transaction_id"])
            elif (
                metric.get("field_name")
                and metric["aggregation_type"] != "count_agg"
                and metric["field_name"] not in (event.get("properties") or {})
            ):
                report["missing_aggregation_property"].append(event["transaction_id"])
            event["validated"] = True
            standin.store.save(
                KIND,
                event,
                key=_key(event["external_subscription_id"], event["transaction_id"]),
                touch=False,
            )
    if not any(report.values()):
        return None
    standin.webhooks.emit("events.errors", report)
    return report


@register_object("events_errors")
def _find_for_trigger(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    """`object_id`: a transaction id, reported as an invalid code (or `object` for the rest)."""
    found = standin.store.all(KIND, where=lambda e: e["transaction_id"] == identifier)
    if not found:
        return None
    return {
        "invalid_code": [identifier],
        "missing_aggregation_property": [],
        "invalid_filter_values": [],
        "missing_group_key": [],
    }


@bp.post("/events")
def create_event():
    standin = current()
    event = ingest(standin, require("event"))
    return jsonify(event=serialize(standin, event, created=True))


@bp.post("/events/batch")
def create_batch():
    standin = current()
    items = json_body().get("events")
    if not isinstance(items, list):
        raise errors.missing_param("events")
    stored = ingest_batch(standin, items)
    return jsonify(events=[serialize(standin, e, created=True) for e in stored])


@bp.get("/events/<transaction_id>")
def get_event(transaction_id: str):
    standin = current()
    found = standin.store.all(
        KIND, newest_first=False, where=lambda e: e["transaction_id"] == transaction_id
    )
    if not found:
        raise errors.not_found("event")
    return jsonify(event=serialize(standin, found[0]))
