"""Stripe list objects: `limit`, `starting_after`, `ending_before`, `created` filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import errors
from .objects import public
from .params import Params
from .store import order_key

if TYPE_CHECKING:
    from .state import Standin

PAGE_PARAMS = ("limit", "starting_after", "ending_before")
RANGE_OPERATORS = ("gt", "gte", "lt", "lte")

Doc = dict[str, Any]


def page(
    standin: Standin,
    kind: str,
    items: list[Doc],
    params: Params,
    url: str,
    render: Callable[[Doc], Doc] = public,
) -> Doc:
    """One page of `items` (newest first) as a list object."""
    limit = params.integer("limit", 10, low=1, high=100)
    after = params.string("starting_after")
    before = params.string("ending_before")
    if after and before:
        raise errors.exclusive("starting_after", "ending_before")
    if after:
        anchor = _anchor(standin, kind, after, "starting_after")
        rest = [item for item in items if order_key(item) < anchor]
        chosen, has_more = rest[:limit], len(rest) > limit
    elif before:
        anchor = _anchor(standin, kind, before, "ending_before")
        rest = [item for item in items if order_key(item) > anchor]
        chosen, has_more = rest[-limit:], len(rest) > limit
    else:
        chosen, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": [render(i) for i in chosen], "has_more": has_more, "url": url}


def _anchor(standin: Standin, kind: str, object_id: str, param: str) -> tuple[int, int]:
    doc = standin.store.get(object_id, kind)
    if doc is None:
        raise errors.no_such(kind, object_id, param=param, status=400)
    return order_key(doc)


def created_filter(params: Params, key: str = "created") -> Callable[[Doc], bool]:
    """`created=<ts>` or `created[gt|gte|lt|lte]=<ts>` as a predicate."""
    if not params.has(key):
        return lambda _doc: True
    value = params.raw(key)
    if isinstance(value, str):
        exact = params.integer(key)
        return lambda doc: doc[key] == exact
    bounds = Params(value if isinstance(value, dict) else {}, RANGE_OPERATORS, key)
    limits = {op: bounds.integer(op) for op in RANGE_OPERATORS}

    def matches(doc: Doc) -> bool:
        at = doc[key]
        checks = (
            limits["gt"] is None or at > limits["gt"],
            limits["gte"] is None or at >= limits["gte"],
            limits["lt"] is None or at < limits["lt"],
            limits["lte"] is None or at <= limits["lte"],
        )
        return all(checks)

    return matches
