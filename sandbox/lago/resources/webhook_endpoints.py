"""Webhook endpoints (max 10, unique URL) and the public key webhooks are signed with."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request

from .. import errors, pagination, signing
from ..state import Standin, current
from ..webhook_types import WEBHOOK_TYPES
from . import Problems, blank, require

bp = Blueprint("webhook_endpoints", __name__)

KIND = "webhook_endpoint"
LIMIT = 10
SIGNATURE_ALGOS = ("jwt", "hmac")
# The message lago-api's locale gives `errors.add(:base, :exceeded_limit)`.
LIMIT_MESSAGE = "Maximum number of webhook endpoints was reached"


def serialize(standin: Standin, endpoint: dict[str, Any]) -> dict[str, Any]:
    """An endpoint as V1::WebhookEndpointSerializer renders it."""
    return {
        "lago_id": endpoint["id"],
        "lago_organization_id": standin.org()["id"],
        "webhook_url": endpoint["webhook_url"],
        "signature_algo": endpoint["signature_algo"],
        "name": endpoint.get("name"),
        "event_types": endpoint.get("event_types"),
        "created_at": endpoint["created_at"],
    }


def normalize_event_types(value: Any) -> tuple[Any, bool]:
    """Strip, lower-case, drop blanks and duplicates; ["*"] means all (null). -> (types, ok)."""
    if value is None:
        return None, True
    if not isinstance(value, list):
        return value, False
    cleaned: list[str] = []
    for item in value:
        if item is None or not str(item).strip():
            continue
        name = str(item).strip().lower()
        if name not in cleaned:
            cleaned.append(name)
    if cleaned == ["*"]:
        return None, True
    return cleaned, all(name in WEBHOOK_TYPES for name in cleaned)


def _valid_url(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check(standin: Standin, endpoint: dict[str, Any], problems: Problems) -> None:
    url = endpoint.get("webhook_url")
    if blank(url):
        problems.add("webhook_url", "value_is_mandatory")
    elif not _valid_url(url):
        problems.add("webhook_url", "url_is_invalid")
    else:
        taken = standin.store.all(
            KIND, where=lambda e: e["webhook_url"] == url and e.get("id") != endpoint.get("id")
        )
        if taken:
            problems.add("webhook_url", "value_already_exist")
    if endpoint.get("signature_algo") not in SIGNATURE_ALGOS:
        problems.add("signature_algo", "value_is_invalid")


def create(standin: Standin, params: dict[str, Any]) -> dict[str, Any]:
    """Create an endpoint (422 on a bad or taken URL, bad event types, or over the limit)."""
    problems = Problems()
    event_types, types_ok = normalize_event_types(params.get("event_types"))
    endpoint = {
        "webhook_url": params.get("webhook_url"),
        "signature_algo": params.get("signature_algo") or "jwt",
        "name": params.get("name"),
        "event_types": event_types,
    }
    _check(standin, endpoint, problems)
    if not types_ok:
        problems.add("event_types", "value_is_invalid")
    if standin.store.count(KIND) >= LIMIT:
        problems.add("base", LIMIT_MESSAGE)
    problems.raise_if_any()
    return standin.store.insert(KIND, endpoint, key=endpoint["webhook_url"])


def update(standin: Standin, endpoint: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Update the URL, and the algorithm, name and event types when given."""
    problems = Problems()
    endpoint = dict(endpoint)
    endpoint["webhook_url"] = params.get("webhook_url")
    if params.get("signature_algo") is not None:
        endpoint["signature_algo"] = params["signature_algo"]
    if "name" in params:
        endpoint["name"] = params["name"]
    types_ok = True
    if "event_types" in params:
        endpoint["event_types"], types_ok = normalize_event_types(params["event_types"])
    _check(standin, endpoint, problems)
    if not types_ok:
        problems.add("event_types", "value_is_invalid")
    problems.raise_if_any()
    return standin.store.save(KIND, endpoint, key=endpoint["webhook_url"])


def get_or_404(standin: Standin, lago_id: str) -> dict[str, Any]:
    """The endpoint with this id, or 404 webhook_endpoint_not_found."""
    endpoint = standin.store.get(KIND, lago_id)
    if endpoint is None:
        raise errors.not_found("webhook_endpoint")
    return endpoint


@bp.post("/webhook_endpoints")
def create_webhook_endpoint():
    standin = current()
    endpoint = create(standin, require("webhook_endpoint"))
    return jsonify(webhook_endpoint=serialize(standin, endpoint))


@bp.get("/webhook_endpoints")
def list_webhook_endpoints():
    standin = current()
    endpoints = standin.store.all(KIND)
    return jsonify(
        pagination.collection(
            "webhook_endpoints", endpoints, lambda e: serialize(standin, e), request.args
        )
    )


@bp.get("/webhook_endpoints/<lago_id>")
def get_webhook_endpoint(lago_id: str):
    standin = current()
    return jsonify(webhook_endpoint=serialize(standin, get_or_404(standin, lago_id)))


@bp.put("/webhook_endpoints/<lago_id>")
def update_webhook_endpoint(lago_id: str):
    standin = current()
    endpoint = update(standin, get_or_404(standin, lago_id), require("webhook_endpoint"))
    return jsonify(webhook_endpoint=serialize(standin, endpoint))


@bp.delete("/webhook_endpoints/<lago_id>")
def delete_webhook_endpoint(lago_id: str):
    standin = current()
    endpoint = get_or_404(standin, lago_id)
    standin.store.delete(KIND, endpoint["id"])
    standin.store.delete_where("webhook", lambda w: w["webhook_endpoint_id"] == endpoint["id"])
    return jsonify(webhook_endpoint=serialize(standin, endpoint))


@bp.get("/webhooks/json_public_key")
def json_public_key():
    key = signing.public_key_b64(current().org()["rsa_private_key"])
    return jsonify(webhook={"public_key": key})


@bp.get("/webhooks/public_key")
def public_key():
    key = signing.public_key_b64(current().org()["rsa_private_key"])
    return Response(key, mimetype="text/plain")
