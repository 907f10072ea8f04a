"""The sandbox control API under /_sandbox (not Stripe's; no auth): state, faults, webhooks, 3DS."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from ..common.control import ControlError, add_shared_routes, json_body
from . import events, setup_flow
from .errors import StripeError
from .objects import load, public
from .resources.webhook_endpoints import KIND as ENDPOINT_KIND
from .resources.webhook_endpoints import check_events, check_url
from .state import Standin, current
from .webhooks import KIND as DELIVERY_KIND
from .webhooks import new_endpoint, public_delivery

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")

KINDS = ("customer", "payment_method", "setup_intent", "event", "webhook_endpoint", "delivery")
DELIVERY_FILTERS = ("event", "type", "status", "webhook_endpoint")
add_shared_routes(bp, current, json_body)


def endpoint_view(endpoint: dict[str, Any]) -> dict[str, Any]:
    """An endpoint with its signing secrets (newest first)."""
    return public(endpoint) | {"secrets": endpoint["_secrets"]}


def keys(standin: Standin) -> dict[str, Any]:
    """The account's test keys and the default webhook secret."""
    config = standin.config
    return {
        "api_key": config.api_key,
        "publishable_key": config.publishable_key,
        "webhook_secret": config.webhook_secret,
    }


@bp.get("")
@bp.get("/")
def overview():
    standin = current()
    return jsonify(
        config=standin.config.public(),
        counts={kind: standin.store.count(kind) for kind in KINDS},
        faults=standin.faults.current(),
        now=standin.clock.now(),
    )


@bp.post("/reset")
def reset():
    standin = current()
    standin.reset()
    return jsonify(reset=True, counts={kind: standin.store.count(kind) for kind in KINDS})


@bp.get("/keys")
def get_keys():
    return jsonify(keys(current()))


@bp.get("/clock")
def get_clock():
    return jsonify(now=current().clock.now())


@bp.post("/clock")
def move_clock():
    """`{"advance_seconds": n}`, `{"travel_to": unix}` or `{"reset": true}`."""
    clock = current().clock
    params = json_body()
    try:
        if params.get("reset"):
            clock.reset()
        elif "advance_seconds" in params:
            clock.advance(float(params["advance_seconds"]))
        elif "travel_to" in params:
            clock.travel_to(float(params["travel_to"]))
        else:
            raise ControlError(400, "give advance_seconds, travel_to or reset")
    except (TypeError, ValueError) as exc:
        raise ControlError(400, f"not a number: {exc}") from exc
    return jsonify(now=clock.now())


@bp.get("/webhook_endpoints")
def list_endpoints():
    endpoints = reversed(current().store.all(ENDPOINT_KIND))
    return jsonify(webhook_endpoints=[endpoint_view(e) for e in endpoints])


@bp.post("/webhook_endpoints")
def add_endpoint():
    """`{"url", "secret"? or "secrets"?, "enabled_events"? (default ["*"]), "api_version"?}`."""
    standin = current()
    params = json_body()
    secrets = params.get("secrets") or ([params["secret"]] if params.get("secret") else None)
    secrets = _checked_secrets(secrets) if secrets else None
    try:
        endpoint = new_endpoint(
            standin,
            url=check_url(str(params.get("url", ""))),
            enabled_events=check_events(list(params.get("enabled_events") or ["*"])),
            secrets=secrets,
            api_version=params.get("api_version"),
            description=params.get("description"),
        )
    except StripeError as exc:
        raise ControlError(400, exc.error["message"]) from exc
    with standin.write_lock:
        standin.store.insert(ENDPOINT_KIND, endpoint)
    return jsonify(webhook_endpoint=endpoint_view(endpoint)), 201


@bp.put("/webhook_endpoints/<endpoint_id>/secrets")
def put_secrets(endpoint_id: str):
    """`{"secrets": [new, old]}`: sign with both while a rotation is under way."""
    standin = current()
    secrets = _checked_secrets(json_body().get("secrets"))
    with standin.write_lock:
        endpoint = standin.store.get(endpoint_id, ENDPOINT_KIND)
        if endpoint is None:
            raise ControlError(404, f"no webhook endpoint {endpoint_id}")
        endpoint = standin.store.save(endpoint | {"_secrets": secrets})
    return jsonify(webhook_endpoint=endpoint_view(endpoint))


def _checked_secrets(secrets: Any) -> list[str]:
    if (
        not isinstance(secrets, list)
        or not 1 <= len(secrets) <= 2
        or not all(isinstance(s, str) and s for s in secrets)
    ):
        raise ControlError(400, "secrets must be a list of one or two non-empty strings")
    return secrets


@bp.get("/deliveries")
def list_deliveries():
    """Every delivery, oldest first, filtered by `event`, `type`, `status`, `webhook_endpoint`."""
    records = reversed(current().store.all(DELIVERY_KIND))
    wanted = {k: request.args[k] for k in DELIVERY_FILTERS if request.args.get(k)}
    chosen = [r for r in records if all(r.get(k) == v for k, v in wanted.items())]
    return jsonify(deliveries=[public_delivery(r) for r in chosen])


@bp.get("/deliveries/<delivery_id>")
def get_delivery(delivery_id: str):
    record = current().store.get(delivery_id, DELIVERY_KIND)
    if record is None:
        raise ControlError(404, f"no delivery {delivery_id}")
    return jsonify(delivery=public_delivery(record))


@bp.post("/deliveries/<delivery_id>/retry")
def retry_delivery(delivery_id: str):
    record = current().webhooks.retry(delivery_id)
    if record is None:
        raise ControlError(404, f"no delivery {delivery_id}")
    return jsonify(delivery=public_delivery(record))


@bp.post("/events")
def trigger_event():
    """`{"type", "object_id"}` or `{"type", "object"}`: create any event and deliver it."""
    standin = current()
    params = json_body()
    event_type = str(params.get("type", ""))
    if not events.TYPE_PATTERN.match(event_type):
        raise ControlError(400, f"not an event type: {event_type!r}")
    obj = params.get("object")
    if obj is None:
        obj = load(standin, str(params.get("object_id", "")))
        if obj is None:
            raise ControlError(404, f"no object {params.get('object_id')!r}; pass `object`")
    with standin.write_lock:
        event = events.publish(standin, event_type, obj, params.get("previous_attributes"))
    return jsonify(event=public(event)), 201


@bp.post("/events/<event_id>/resend")
def resend_event(event_id: str):
    """Deliver an event again to `webhook_endpoint` (any endpoint) or to every subscriber."""
    standin = current()
    event = standin.store.get(event_id, events.KIND)
    if event is None:
        raise ControlError(404, f"no event {event_id}")
    endpoint_id = json_body().get("webhook_endpoint")
    if endpoint_id:
        endpoint = standin.store.get(endpoint_id, ENDPOINT_KIND)
        if endpoint is None:
            raise ControlError(404, f"no webhook endpoint {endpoint_id}")
        targets = [endpoint]
    else:
        targets = [
            e
            for e in reversed(standin.store.all(ENDPOINT_KIND))
            if events.subscribed(e, event["type"])
        ]
    records = standin.webhooks.deliver(event, targets, resend=True)
    return jsonify(deliveries=[public_delivery(r) for r in records])


@bp.get("/authentications")
def pending_authentications():
    """SetupIntents waiting for 3-D Secure, with their challenge page URLs."""
    standin = current()
    pending = standin.store.all(setup_flow.KIND, lambda d: d["status"] == "requires_action")
    return jsonify(
        authentications=[
            {
                "setup_intent": intent["id"],
                "customer": intent["customer"],
                "payment_method": intent["payment_method"],
                "challenge_url": setup_flow.challenge_url(standin, intent),
            }
            for intent in reversed(pending)
        ]
    )


@bp.post("/authentications/<intent_id>/<outcome>")
def finish_authentication(intent_id: str, outcome: str):
    """`complete` or `fail` a pending 3-D Secure challenge; returns the SetupIntent."""
    if outcome not in ("complete", "fail"):
        raise ControlError(404, "use /complete or /fail")
    standin = current()
    with standin.write_lock:
        try:
            intent = setup_flow.authenticate(standin, intent_id, complete=outcome == "complete")
        except KeyError as exc:
            raise ControlError(404, f"no SetupIntent {intent_id}") from exc
        except ValueError as exc:
            raise ControlError(409, str(exc)) from exc
    return jsonify(setup_intent=public(intent))
