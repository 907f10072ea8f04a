"""`expand[]`: replace id strings in a reply by the objects they name."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import errors
from .objects import load

if TYPE_CHECKING:
    from .state import Standin

MAX_DEPTH = 4
# Object type -> dotted fields that hold another object's id.
EXPANDABLE = {
    "customer": ("invoice_settings.default_payment_method", "default_source", "test_clock"),
    "payment_method": ("customer",),
    "setup_intent": (
        "customer",
        "payment_method",
        "latest_attempt",
        "mandate",
        "single_use_mandate",
        "on_behalf_of",
        "application",
    ),
}


def apply(standin: Standin, reply: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A copy of `reply` with every path in `paths` expanded."""
    if not paths:
        return reply
    reply = copy.deepcopy(reply)
    for path in paths:
        depth = path.removeprefix("data.").count(".") + 1
        if depth > MAX_DEPTH:
            raise errors.invalid(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                "expand",
            )
        reply = _expand(standin, reply, path, path)
    return reply


def _expand(standin: Standin, obj: Any, path: str, full: str) -> Any:
    if not isinstance(obj, dict):
        return obj
    if obj.get("object") == "list":
        head, _, rest = path.partition(".")
        if head != "data" or not rest:
            raise _cannot(full)
        obj["data"] = [_expand(standin, item, rest, full) for item in obj["data"]]
        return obj
    for field in EXPANDABLE.get(obj.get("object", ""), ()):
        if path != field and not path.startswith(field + "."):
            continue
        *parents, leaf = field.split(".")
        holder = obj
        for name in parents:
            holder = holder.get(name) or {}
        value = holder.get(leaf)
        if isinstance(value, str):
            value = load(standin, value) or value
        rest = path[len(field) + 1 :]
        if rest:
            value = _expand(standin, value, rest, full)
        if isinstance(holder, dict) and leaf in holder:
            holder[leaf] = value
        return obj
    raise _cannot(full)


def _cannot(path: str) -> errors.StripeError:
    return errors.invalid(f"This property cannot be expanded ({path}).", "expand")
