"""Stripe's wire format: form parameters in, pretty JSON with `expand[]` applied out."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from flask import Response, g, request

from . import errors, expand, forms
from .objects import ordered
from .params import Params
from .state import current

JSON_TYPE = "application/json"
VERSION_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    """A pretty-printed JSON reply, keys in Stripe's order."""
    text = json.dumps(ordered(body), indent=2, ensure_ascii=False)
    return Response(text, status=status, content_type=JSON_TYPE)


def error_response(error: errors.StripeError) -> Response:
    """Stripe's `{"error": {...}}` body with its status."""
    return json_response(error.body(), error.status)


def parse_request() -> dict[str, Any]:
    """The request's parameters: the query string for GET/DELETE, the form body for POST."""
    pairs = request.form.items(multi=True) if request.method == "POST" else None
    if pairs is None:
        pairs = request.args.items(multi=True)
    try:
        return forms.parse_pairs(pairs)
    except forms.FormError as exc:
        raise errors.invalid(str(exc)) from exc


def api_version() -> str:
    """The version asked for in `Stripe-Version`, else the account's default."""
    asked = request.headers.get("Stripe-Version")
    if asked is None:
        return current().config.api_version
    if not VERSION_PATTERN.match(asked):
        raise errors.invalid(f"Invalid Stripe API version: {asked}")
    return asked


def version_at_least(date: str) -> bool:
    """Whether the request's API version is this date (YYYY-MM-DD) or newer."""
    return g.api_version[:10] >= date


def params(allowed: Iterable[str], unsupported: Iterable[str] = ()) -> Params:
    """The request's parameters, checked against the names a route takes."""
    return Params(g.params, allowed, unsupported=unsupported)


def expand_paths() -> list[str]:
    """The `expand[]` paths of this request."""
    value = g.params.get("expand")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise errors.invalid("Invalid array", "expand")


def respond(obj: dict[str, Any], status: int = 200) -> Response:
    """Reply with an object or list, expanded as the request asked."""
    return json_response(expand.apply(current(), obj, expand_paths()), status)
