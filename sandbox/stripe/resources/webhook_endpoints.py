"""Webhook endpoints: create (the secret is shown once), retrieve, update, list, delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint

from .. import errors, events, lists, wire
from ..objects import deleted_stub, public
from ..params import Params
from ..state import Standin, current
from ..webhooks import new_endpoint

bp = Blueprint("webhook_endpoints", __name__)

KIND = "webhook_endpoint"
URL_PATH = "/v1/webhook_endpoints"


def check_url(url: str, param: str = "url") -> str:
    """An absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.invalid(f"Invalid URL: {url}", param, "url_invalid")
    return url


def check_events(names: list[str], param: str = "enabled_events") -> list[str]:
    """`*`, or event type names (`customer.updated`, `setup_intent.*`)."""
    for index, name in enumerate(names):
        wildcard = name.endswith(".*") and events.TYPE_PATTERN.match(name[:-2] + ".any")
        if name != "*" and not wildcard and not events.TYPE_PATTERN.match(name):
            raise errors.invalid(f"Invalid {param}[{index}]: {name}", f"{param}[{index}]")
    if not names:
        raise errors.missing_param(param)
    return names


def get_or_404(standin: Standin, endpoint_id: str) -> dict[str, Any]:
    """The endpoint named in the URL, or 404."""
    endpoint = standin.store.get(endpoint_id, KIND)
    if endpoint is None:
        raise errors.no_such(KIND, endpoint_id)
    return endpoint


def created_reply(endpoint: dict[str, Any]) -> dict[str, Any]:
    """The create reply: the only time Stripe shows the signing secret."""
    return public(endpoint) | {"secret": endpoint["_secrets"][0]}


@bp.post("/webhook_endpoints")
def create():
    standin = current()
    params = wire.params(
        ("api_version", "description", "enabled_events", "metadata", "url"), ("connect",)
    )
    endpoint = new_endpoint(
        standin,
        url=check_url(params.string("url", required=True)),
        enabled_events=check_events(params.strings("enabled_events", required=True) or []),
        api_version=params.string("api_version"),
        description=params.string("description"),
        metadata=params.metadata(),
    )
    standin.store.insert(KIND, endpoint)
    return wire.respond(created_reply(endpoint))


@bp.get("/webhook_endpoints/<endpoint_id>")
def retrieve(endpoint_id: str):
    wire.params(())
    return wire.respond(public(get_or_404(current(), endpoint_id)))


def apply_update(params: Params, endpoint: dict[str, Any]) -> dict[str, Any]:
    """The endpoint with `url`, `enabled_events`, `disabled`, `description`, `metadata` applied."""
    updated = dict(endpoint)
    if params.has("url"):
        updated["url"] = check_url(params.string("url", required=True))
    if params.has("enabled_events"):
        updated["enabled_events"] = check_events(params.strings("enabled_events") or [])
    disabled = params.boolean("disabled")
    if disabled is not None:
        updated["status"] = "disabled" if disabled else "enabled"
    if params.has("description"):
        updated["description"] = params.string("description")
    updated["metadata"] = params.metadata(endpoint["metadata"])
    return updated


@bp.post("/webhook_endpoints/<endpoint_id>")
def update(endpoint_id: str):
    standin = current()
    params = wire.params(("description", "disabled", "enabled_events", "metadata", "url"))
    endpoint = get_or_404(standin, endpoint_id)
    return wire.respond(public(standin.store.save(apply_update(params, endpoint))))


@bp.delete("/webhook_endpoints/<endpoint_id>")
def delete(endpoint_id: str):
    standin = current()
    wire.params(())
    endpoint = get_or_404(standin, endpoint_id)
    standin.store.delete(endpoint_id)
    return wire.respond(deleted_stub(endpoint))


@bp.get("/webhook_endpoints")
def list_endpoints():
    standin = current()
    params = wire.params(lists.PAGE_PARAMS)
    items = standin.store.all(KIND)
    return wire.respond(lists.page(standin, KIND, items, params, URL_PATH))
