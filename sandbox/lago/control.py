"""The sandbox control API under /_sandbox (not Lago's; no Lago auth): state, faults, logs, keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, jsonify, request

from . import signing
from .clock import parse_iso
from .resources import OBJECT_FINDERS, json_body
from .spec import EXTRA_ROUTES, SPEC_GAPS
from .state import Standin, current
from .webhook_types import WEBHOOK_TYPES
from .webhooks import KIND as WEBHOOK_KIND
from .webhooks import public_record

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")

KINDS = ("billable_metric", "plan", "customer", "webhook_endpoint", "webhook")


class ControlError(Exception):
    """A control API error: plain `{"error": message}` with a status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@bp.errorhandler(ControlError)
def _control_error(error: ControlError):
    response = jsonify(error=error.message)
    response.status_code = error.status
    return response


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


@bp.get("/config")
def get_config():
    return jsonify(current().config.public())


@bp.put("/config")
def put_config():
    try:
        config = current().configure(**json_body())
    except (TypeError, ValueError) as exc:
        raise ControlError(400, str(exc)) from exc
    return jsonify(config.public())


@bp.get("/faults")
def get_faults():
    return jsonify(current().faults.current())


@bp.put("/faults")
def put_faults():
    try:
        current().faults.set(**json_body())
    except (TypeError, ValueError) as exc:
        raise ControlError(400, str(exc)) from exc
    return jsonify(current().faults.current())


@bp.delete("/faults")
def delete_faults():
    current().faults.clear()
    return jsonify(current().faults.current())


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
        nullable_overrides=[f"{s}.{'.'.join(p)}: {why}" for s, p, why in SPEC_GAPS],
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
    """Send any webhook type for a stored object (`object_id`) or for a given `object`."""
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
        obj = finder(standin, str(params.get("object_id", "")))
        if obj is None:
            raise ControlError(404, f"no {object_type} {params.get('object_id')!r}")
    records = standin.webhooks.emit(webhook_type, obj, object_type=object_type)
    return jsonify(webhooks=[public_record(r, standin.webhooks) for r in records])


@bp.post("/webhooks/wait")
def wait_for_webhooks():
    """Block until every delivery and retry has finished (or `timeout` seconds passed)."""
    timeout = float(json_body().get("timeout", 10))
    return jsonify(idle=current().webhooks.wait_idle(timeout))


@bp.get("/clock")
def get_clock():
    return jsonify(now=current().clock.now_iso())


@bp.post("/clock")
def move_clock():
    """`{"advance_seconds": n}`, `{"travel_to": iso}` or `{"reset": true}`."""
    clock = current().clock
    params = json_body()
    if params.get("reset"):
        clock.reset()
    elif "advance_seconds" in params:
        clock.advance(timedelta(seconds=float(params["advance_seconds"])))
    elif "travel_to" in params:
        try:
            moment = parse_iso(params["travel_to"])
        except (TypeError, ValueError):
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ControlError(400, "travel_to needs an ISO 8601 timestamp with a zone")
        clock.travel_to(moment)
    else:
        raise ControlError(400, "give advance_seconds, travel_to or reset")
    return jsonify(now=clock.now_iso())
