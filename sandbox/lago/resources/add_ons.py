"""Add-ons (the catalogue of one-off fees): create, list, get by code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..spec import schema_enum
from ..state import Standin, current
from . import Problems, blank, register_object, require

bp = Blueprint("add_ons", __name__)

KIND = "add_on"


def find(standin: Standin, code: str) -> dict[str, Any] | None:
    """The live add-on with this code."""
    return standin.store.find(KIND, code)


def serialize(standin: Standin, add_on: dict[str, Any]) -> dict[str, Any]:
    """An add-on as V1::AddOnSerializer renders it."""
    return {
        "lago_id": add_on["id"],
        "name": add_on["name"],
        "invoice_display_name": add_on.get("invoice_display_name"),
        "code": add_on["code"],
        "amount_cents": add_on["amount_cents"],
        "amount_currency": add_on["amount_currency"],
        "description": add_on.get("description"),
        "created_at": add_on["created_at"],
        "taxes": [],
    }


def create(standin: Standin, params: dict[str, Any]) -> dict[str, Any]:
    """Create an add-on (422 on a taken code or missing fields)."""
    problems = Problems()
    for name in ("name", "code", "amount_currency"):
        if blank(params.get(name)):
            problems.add(name, "value_is_mandatory")
    if params.get("amount_cents") is None:
        problems.add("amount_cents", "value_is_mandatory")
    if params.get("amount_currency") and params["amount_currency"] not in schema_enum("Currency"):
        problems.add("amount_currency", "value_is_invalid")
    if params.get("code") and find(standin, params["code"]):
        problems.add("code", "value_already_exist")
    problems.raise_if_any()
    add_on = {
        "name": params["name"],
        "code": params["code"],
        "invoice_display_name": params.get("invoice_display_name"),
        "amount_cents": params["amount_cents"],
        "amount_currency": params["amount_currency"],
        "description": params.get("description"),
    }
    return standin.store.insert(KIND, add_on, key=add_on["code"])


@register_object("add_on")
def _find_for_trigger(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    add_on = find(standin, identifier) or standin.store.get(KIND, identifier)
    return serialize(standin, add_on) if add_on else None


@bp.post("/add_ons")
def create_add_on():
    standin = current()
    return jsonify(add_on=serialize(standin, create(standin, require("add_on"))))


@bp.get("/add_ons")
def list_add_ons():
    standin = current()
    found = standin.store.all(KIND)
    return jsonify(
        pagination.collection("add_ons", found, lambda a: serialize(standin, a), request.args)
    )


@bp.get("/add_ons/<code>")
def get_add_on(code: str):
    standin = current()
    add_on = find(standin, code)
    if add_on is None:
        raise errors.not_found("add_on")
    return jsonify(add_on=serialize(standin, add_on))
