"""The sandbox control API under /_sandbox (not Lago's; no Lago auth): state, faults, logs, keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request

from ..common.control import ControlError, add_shared_routes
from . import scheduler, signing
from .clock import parse_iso
from .resources import OBJECT_FINDERS, customers, invoices, json_body, payment_methods, payments
from .spec import (
    EMPTY_RESPONSES,
    EXTRA_RESPONSES,
    EXTRA_ROUTES,
    SHAPE_GAPS,
    SIGNED_GAPS,
    SPEC_GAPS,
)
from .state import Standin, current
from .webhook_types import WEBHOOK_TYPES
from .webhooks import KIND as WEBHOOK_KIND
from .webhooks import public_record

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")
add_shared_routes(bp, current, json_body)

KINDS = (
    "billable_metric",
    "plan",
    "add_on",
    "customer",
    "payment_method",
    "subscription",
    "event",
    "invoice",
    "payment",
    "credit_note",
    "wallet",
    "wallet_transaction",
    "webhook_endpoint",
    "webhook",
)


def organization_keys(standin: Standin) -> dict[str, Any]:
    """The org's identity and secrets, which real Lago only shows in its UI."""
    org = standin.org()
    return {
        "lago_id": org["id"],
        "name": org["name"],
        "api_key": org["api_key"],
        "hmac_key": org["hmac_key"],
        "public_key": signing.public_key_b64(org["rsa_private_key"]),
        "public_key_pem": signing.public_key_pem(org["rsa_private_key"]),
        "issuer": standin.issuer(),
    }


@bp.get("")
@bp.get("/")
def overview():
    standin = current()
    return jsonify(
        config=standin.config.public(),
        organization={"lago_id": standin.org()["id"], "name": standin.org()["name"]},
        counts={kind: standin.store.count(kind) for kind in KINDS},
        faults=standin.faults.current(),
        violations=len(standin.spec_guard.violations()),
        now=standin.clock.now_iso(),
    )


@bp.post("/reset")
def reset():
    standin = current()
    standin.reset(seed=bool(json_body().get("seed", False)))
    return jsonify(reset=True, counts={kind: standin.store.count(kind) for kind in KINDS})


@bp.post("/seed")
def seed():
    return jsonify(seeded=current().seed())


@bp.get("/organization")
def organization():
    return jsonify(organization_keys(current()))


@bp.get("/violations")
def get_violations():
    guard = current().spec_guard
    found = (
        guard.pop_violations() if request.args.get("pop") in ("1", "true") else guard.violations()
    )
    return jsonify(violations=[v.as_dict() for v in found])


@bp.delete("/violations")
def delete_violations():
    return jsonify(violations=[v.as_dict() for v in current().spec_guard.pop_violations()])


@bp.get("/spec")
def spec_info():
    standin = current()
    return jsonify(
        timings=standin.spec_guard.stats.as_dict(),
        extra_routes={k: v.source for k, v in EXTRA_ROUTES.items()},
        empty_responses=dict(EMPTY_RESPONSES),
        extra_responses={f"{k[0]} -> {k[1]}": v.source for k, v in EXTRA_RESPONSES.items()},
        nullable_overrides=[f"{s}.{'.'.join(p)}: {why}" for s, p, why in SPEC_GAPS],
        signed_overrides=[f"{s}.{'.'.join(p)}: {why}" for s, p, why in SIGNED_GAPS],
        shape_overrides=[f"{s}.{'.'.join(p)}: {why}" for s, p, _shape, why in SHAPE_GAPS],
    )


@bp.get("/webhooks")
def list_webhooks():
    standin = current()
    args = request.args
    records = standin.store.all(WEBHOOK_KIND, newest_first=False)
    for name in ("webhook_type", "status", "webhook_endpoint_id", "object_type"):
        if args.get(name):
            records = [r for r in records if r.get(name) == args[name]]
    return jsonify(webhooks=[public_record(r, standin.webhooks) for r in records])


@bp.get("/webhooks/<record_id>")
def get_webhook(record_id: str):
    standin = current()
    record = standin.store.get(WEBHOOK_KIND, record_id)
    if record is None:
        raise ControlError(404, "no such webhook")
    return jsonify(webhook=public_record(record, standin.webhooks))


@bp.post("/webhooks/<record_id>/retry")
def retry_webhook(record_id: str):
    standin = current()
    record = standin.webhooks.retry(record_id)
    if record is None:
        raise ControlError(404, "no such webhook")
    return jsonify(webhook=public_record(record, standin.webhooks))


@bp.post("/webhooks/trigger")
def trigger_webhook():
    """Send any webhook type for a stored object (`object_id`) or for a given `object`.

    `copies` (default 1) delivers the one webhook that many times with the same unique key,
    `concurrent` sends those copies at the same moment, `hold` keeps it back for `release`.
    """
    standin = current()
    params = json_body()
    webhook_type = params.get("webhook_type")
    if webhook_type not in WEBHOOK_TYPES:
        raise ControlError(400, f"unknown webhook_type {webhook_type!r}")
    object_type = params.get("object_type") or WEBHOOK_TYPES[webhook_type]
    obj = params.get("object")
    if obj is None:
        finder = OBJECT_FINDERS.get(object_type)
        if finder is None:
            raise ControlError(400, f"no stored {object_type} objects here yet; pass `object`")
        obj = finder(standin, str(params.get("object_id", "")), webhook_type=webhook_type)
        if obj is None:
            raise ControlError(404, f"no {object_type} {params.get('object_id')!r}")
    copies = _positive_int(params.get("copies", 1), "copies")
    concurrent = bool(params.get("concurrent"))
    dispatcher = standin.webhooks
    plain = copies == 1 and not concurrent and not params.get("hold")
    # A plain trigger is queued like any webhook (delivered in the order sent, held when the
    # dispatcher holds); copies and concurrency go out at once from their own threads.
    records = dispatcher.emit(webhook_type, obj, object_type=object_type, deliver=plain)
    ids = [r["id"] for r in records]
    if not plain:
        if params.get("hold") or dispatcher.holding():
            dispatcher.keep(ids)
        else:
            dispatcher.deliver([i for i in ids for _ in range(copies)], concurrent=concurrent)
    return jsonify(webhooks=[public_record(r, dispatcher) for r in records])


def _positive_int(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ControlError(400, f"{name} must be a whole number") from exc
    if number < 1:
        raise ControlError(400, f"{name} must be at least 1")
    return number


def _records(standin: Standin, ids: Any) -> list[str]:
    if not isinstance(ids, list) or not ids:
        raise ControlError(400, "ids must be a non-empty list of webhook ids")
    for record_id in ids:
        if standin.store.get(WEBHOOK_KIND, str(record_id)) is None:
            raise ControlError(404, f"no such webhook {record_id!r}")
    return [str(i) for i in ids]


@bp.post("/webhooks/hold")
def hold_webhooks():
    """`{"hold": true}` keeps new webhooks back; `{"hold": false}` sends the held ones in order."""
    dispatcher = current().webhooks
    released = dispatcher.hold(bool(json_body().get("hold", True)))
    return jsonify(holding=dispatcher.holding(), held=dispatcher.held(), released=released)


@bp.post("/webhooks/release")
def release_webhooks():
    """Send held webhooks: `ids` (in that order; default all), `order` fifo|lifo, `concurrent`."""
    standin = current()
    params = json_body()
    ids = _records(standin, params["ids"]) if params.get("ids") is not None else None
    order = params.get("order", "fifo")
    if order not in ("fifo", "lifo"):
        raise ControlError(400, "order must be fifo or lifo")
    released = standin.webhooks.release(ids, order=order, concurrent=bool(params.get("concurrent")))
    return jsonify(released=released, held=standin.webhooks.held())


@bp.post("/webhooks/deliver")
def deliver_webhooks():
    """Send stored webhooks again, in the order given (`ids`), or all at once (`concurrent`).

    With `new_unique_key` each is sent as a new webhook record carrying the same (possibly
    stale) body; otherwise as a redelivery with its own `X-Lago-Unique-Key`.
    """
    standin = current()
    params = json_body()
    ids = _records(standin, params.get("ids"))
    dispatcher = standin.webhooks
    records = []
    if params.get("new_unique_key"):
        ids = [dispatcher.duplicate(i)["id"] for i in ids]  # type: ignore[index]
    dispatcher.deliver(ids, concurrent=bool(params.get("concurrent")), retry_failures=False)
    for record_id in dict.fromkeys(ids):
        record = standin.store.get(WEBHOOK_KIND, record_id)
        if record is not None:
            records.append(public_record(record, dispatcher))
    return jsonify(webhooks=records)


@bp.post("/webhooks/<record_id>/replay")
def replay_webhook(record_id: str):
    """Deliver one webhook `copies` times (same unique key unless `new_unique_key`)."""
    standin = current()
    params = json_body()
    _records(standin, [record_id])
    copies = _positive_int(params.get("copies", 1), "copies")
    dispatcher = standin.webhooks
    if params.get("new_unique_key"):
        ids = [dispatcher.duplicate(record_id)["id"] for _ in range(copies)]  # type: ignore[index]
    else:
        ids = [record_id] * copies
    dispatcher.deliver(ids, concurrent=bool(params.get("concurrent")), retry_failures=False)
    shown = [standin.store.get(WEBHOOK_KIND, i) for i in dict.fromkeys(ids)]
    return jsonify(webhooks=[public_record(r, dispatcher) for r in shown if r])


# --- payments at the pretend provider ------------------------------------------------------


@bp.get("/payments")
def get_payment_knobs():
    return jsonify(current().payment_knobs.current())


@bp.put("/payments")
def put_payment_knobs():
    """Set how payments go: globally, or for `external_customer_id` (see knobs.PaymentBehaviour)."""
    params = json_body()
    customer = params.pop("external_customer_id", None)
    try:
        current().payment_knobs.set(customer, **params)
    except (TypeError, ValueError) as exc:
        raise ControlError(400, str(exc)) from exc
    return jsonify(current().payment_knobs.current())


@bp.delete("/payments")
def delete_payment_knobs():
    current().payment_knobs.clear()
    return jsonify(current().payment_knobs.current())


def _payment(standin: Standin, identifier: str) -> dict[str, Any]:
    payment = standin.store.get(payments.KIND, identifier)
    if payment is None:
        found = standin.store.all(
            payments.KIND, where=lambda p: p["provider_payment_id"] == identifier
        )
        payment = found[0] if found else None
    if payment is None:
        raise ControlError(404, "no such payment")
    return payment


@bp.post("/payments/<identifier>/complete")
def complete_payment(identifier: str):
    """Finish a payment that requires action: `{"outcome": "succeeded" | "failed"}`."""
    standin = current()
    outcome = json_body().get("outcome", "succeeded")
    if outcome not in ("succeeded", "failed"):
        raise ControlError(400, "outcome must be succeeded or failed")
    with standin.write_lock:
        try:
            payment = payments.complete(standin, _payment(standin, identifier), outcome)
        except ValueError as exc:
            raise ControlError(409, str(exc)) from exc
    return jsonify(payment=payments.serialize(standin, payment))


@bp.route("/payments/<identifier>/authenticate", methods=["GET", "POST"])
def authenticate_payment(identifier: str):
    """The page behind a payment's `next_action` URL (3-D Secure at the pretend provider)."""
    standin = current()
    payment = _payment(standin, identifier)
    if request.method == "POST":
        outcome = request.form.get("outcome") or json_body().get("outcome", "succeeded")
        with standin.write_lock:
            try:
                payments.complete(standin, payment, outcome)
            except ValueError as exc:
                raise ControlError(409, str(exc)) from exc
        return Response(f"<p>Payment {outcome}.</p>", mimetype="text/html")
    return Response(_buttons("Authenticate this payment", request.path), mimetype="text/html")


@bp.route("/checkout/<invoice_id>", methods=["GET", "POST"])
def checkout(invoice_id: str):
    """The page behind `POST /invoices/{id}/payment_url`: paying runs a payment attempt (the
    payment knob decides unless the form or body gives an `outcome`)."""
    standin = current()
    invoice = standin.store.get(invoices.KIND, invoice_id)
    if invoice is None:
        raise ControlError(404, "no such invoice")
    if request.method == "GET":
        return Response(
            _buttons(f"Pay invoice {invoice['number']}", request.path), mimetype="text/html"
        )
    outcome = request.form.get("outcome") or json_body().get("outcome")
    with standin.write_lock:
        if outcome:
            standin.payment_knobs.set(invoice["external_customer_id"], outcomes=[outcome])
        invoice = payments.attempt(standin, invoice, hosted=True)
    return jsonify(invoice=invoices.serialize(standin, invoice))


def _buttons(title: str, action: str) -> str:
    return (
        f"<!doctype html><title>{title}</title><h1>{title}</h1>"
        f'<form method="post" action="{action}">'
        '<button name="outcome" value="succeeded">Succeed</button> '
        '<button name="outcome" value="failed">Fail</button></form>'
    )


@bp.post("/customers/<external_customer_id>/payment_methods")
def add_payment_method(external_customer_id: str):
    """Sync a payment method from the provider:
    `{"provider_method_id", "default": true, "card": "succeeds"}` (see payment_methods.CARDS)."""
    params = json_body()
    return _add_card(external_customer_id, params, default=bool(params.get("default", True)))


@bp.route("/setup/<external_customer_id>", methods=["GET", "POST"])
def setup(external_customer_id: str):
    """The page behind `checkout_url`: the customer adds a card, which becomes the default."""
    if request.method == "GET":
        choices = "".join(
            f'<button name="card" value="{card}">{card.replace("_", " ")}</button> '
            for card in payment_methods.CARDS
        )
        return Response(
            f"<!doctype html><title>Add a card</title><h1>Add a card</h1>"
            f'<form method="post" action="{request.path}">{choices}</form>',
            mimetype="text/html",
        )
    return _add_card(external_customer_id, request.form or json_body(), default=True)


def _add_card(external_customer_id: str, params: Any, *, default: bool):
    standin = current()
    customer = customers.find(standin, external_customer_id)
    if customer is None:
        raise ControlError(404, "no such customer")
    try:
        method = payment_methods.add(
            standin,
            customer,
            provider_method_id=params.get("provider_method_id"),
            make_default=default,
            card=params.get("card") or "succeeds",
        )
    except ValueError as exc:
        raise ControlError(400, str(exc)) from exc
    return jsonify(payment_method=payment_methods.serialize(standin, method))


@bp.get("/clock")
def get_clock():
    return jsonify(now=current().clock.now_iso())


@bp.post("/clock")
def move_clock():
    """`{"advance_seconds": n}`, `{"travel_to": iso}` or `{"reset": true}`; moving forward
    runs lago-api's clock jobs that fall due on the way and lists what they did (`ran`)."""
    standin = current()
    clock = standin.clock
    params = json_body()
    run = params.get("run", True)
    if params.get("reset"):
        clock.reset()
        return jsonify(now=clock.now_iso(), ran=[])
    if "advance_seconds" in params:
        try:
            target = clock.now() + timedelta(seconds=float(params["advance_seconds"]))
        except (TypeError, ValueError) as exc:
            raise ControlError(400, "advance_seconds must be a number") from exc
    elif "travel_to" in params:
        try:
            target = parse_iso(params["travel_to"])
        except (TypeError, ValueError):
            target = None
        if target is None or target.tzinfo is None:
            raise ControlError(400, "travel_to needs an ISO 8601 timestamp with a zone")
    else:
        raise ControlError(400, "give advance_seconds, travel_to or reset")
    if not run:
        clock.travel_to(target)
        return jsonify(now=clock.now_iso(), ran=[])
    ran = scheduler.run_until(standin, target)
    if target < clock.now():
        clock.travel_to(target)
    return jsonify(now=clock.now_iso(), ran=ran)
