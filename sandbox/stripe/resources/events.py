"""Events: list (by type, wildcard, creation time, delivery success) and retrieve."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .. import errors, events, lists, wire
from ..objects import public
from ..state import Standin, current
from ..webhooks import KIND as DELIVERY_KIND

bp = Blueprint("events", __name__)

KIND = events.KIND


def _undelivered(standin: Standin, event_ids: set[str]) -> set[str]:
    """Events with at least one delivery that did not (yet) succeed."""
    records = standin.store.all(DELIVERY_KIND, lambda d: d["event"] in event_ids)
    return {r["event"] for r in records if r["status"] != "succeeded"}


@bp.get("/events")
def list_events():
    standin = current()
    params = wire.params((*lists.PAGE_PARAMS, "created", "delivery_success", "type", "types"))
    single = params.string("type")
    several = params.strings("types")
    if single is not None and several is not None:
        raise errors.exclusive("type", "types")
    wanted = [single] if single else several
    created = lists.created_filter(params)
    items = standin.store.all(
        KIND,
        lambda d: (
            created(d) and (not wanted or any(events.type_matches(w, d["type"]) for w in wanted))
        ),
    )
    success = params.boolean("delivery_success")
    if success is not None:
        failing = _undelivered(standin, {d["id"] for d in items})
        items = [d for d in items if (d["id"] not in failing) == success]
    return wire.respond(lists.page(standin, KIND, items, params, "/v1/events"))


@bp.get("/events/<event_id>")
def retrieve(event_id: str):
    wire.params(())
    event: dict[str, Any] | None = current().store.get(event_id, KIND)
    if event is None:
        raise errors.no_such(KIND, event_id)
    return wire.respond(public(event))
