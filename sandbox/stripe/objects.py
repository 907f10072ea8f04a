"""Turning stored documents into the JSON Stripe returns (private `_` fields dropped)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import ids

if TYPE_CHECKING:
    from .state import Standin

FIRST = ("id", "object")


def ordered(value: Any) -> Any:
    """Keys as Stripe orders them: `id`, `object`, then alphabetical, at every level."""
    if isinstance(value, dict):
        keys = [k for k in FIRST if k in value] + sorted(k for k in value if k not in FIRST)
        return {k: ordered(value[k]) for k in keys}
    if isinstance(value, list):
        return [ordered(item) for item in value]
    return value


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document as the API shows it; deleted objects show as `{id, object, deleted}`."""
    if doc.get("_deleted"):
        return {"id": doc["id"], "object": doc["object"], "deleted": True}
    return ordered({k: v for k, v in doc.items() if not k.startswith("_")})


def load(standin: Standin, object_id: str) -> dict[str, Any] | None:
    """The public form of any stored object, found by id, or None."""
    kind = ids.kind_of(object_id)
    if kind is None:
        return None
    doc = standin.store.get(object_id, kind)
    return public(doc) if doc else None


def deleted_stub(doc: dict[str, Any]) -> dict[str, Any]:
    """What DELETE answers: `{id, object, deleted: true}`."""
    return {"id": doc["id"], "object": doc["object"], "deleted": True}
