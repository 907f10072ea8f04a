"""Features (entitlement components with their privileges): create, list, get, delete.

Plans grant features through entitlements (see `entitlements.py`); deleting a feature removes
it from every plan (each sends plan.updated), as Entitlement::FeatureDestroyService does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..state import Standin, current
from . import Problems, blank, plans, register_object, require

bp = Blueprint("features", __name__)

KIND = "feature"
VALUE_TYPES = ("integer", "string", "boolean", "select")


def find(standin: Standin, code: str) -> dict[str, Any] | None:
    """The live feature with this code."""
    return standin.store.find(KIND, code)


def get_or_404(standin: Standin, code: str) -> dict[str, Any]:
    """The live feature with this code, or 404 feature_not_found."""
    feature = find(standin, code)
    if feature is None:
        raise errors.not_found("feature")
    return feature


def serialize(standin: Standin, feature: dict[str, Any]) -> dict[str, Any]:
    """A feature as V1::Entitlement::FeatureSerializer renders it."""
    return {
        "code": feature["code"],
        "name": feature.get("name"),
        "description": feature.get("description"),
        "privileges": [
            {
                "code": p["code"],
                "name": p.get("name"),
                "value_type": p["value_type"],
                "config": p.get("config") or {},
            }
            for p in feature.get("privileges", [])
        ],
        "created_at": feature["created_at"],
    }


def _config_valid(value_type: str, config: Any) -> bool:
    """Privilege#config_valid?: select lists its options, every other type has no config."""
    if value_type == "select":
        options = config.get("select_options") if isinstance(config, dict) else None
        return (
            list(config) == ["select_options"]
            and isinstance(options, list)
            and bool(options)
            and all(isinstance(o, str) for o in options)
        )
    return not config


def _privileges(params: list[Any], problems: Problems) -> list[dict[str, Any]]:
    codes = [p.get("code") for p in params if isinstance(p, dict)]
    if len(codes) != len(set(codes)):
        raise errors.single_validation_error("value_is_duplicated", "privilege.code")
    privileges = []
    for item in params:
        if not isinstance(item, dict):
            continue
        value_type = item.get("value_type", "string")
        code = (item.get("code") or "").strip()
        if not code:
            problems.add("privilege.code", "value_is_mandatory")
        if value_type not in VALUE_TYPES:
            problems.add("privilege.value_type", "value_is_invalid")
        elif not _config_valid(value_type, item.get("config") or {}):
            problems.add("privilege.config", "invalid_format")
        privileges.append(
            {
                "code": code,
                "name": item.get("name"),
                "value_type": value_type,
                "config": item.get("config") or {},
            }
        )
    return privileges


def create(standin: Standin, params: dict[str, Any], *, notify: bool = True) -> dict[str, Any]:
    """Create a feature with its privileges (422 on a taken code or a bad privilege)."""
    problems = Problems()
    code = (params.get("code") or "").strip() if isinstance(params.get("code"), str) else ""
    if blank(code):
        problems.add("code", "value_is_mandatory")
    elif find(standin, code):
        problems.add("code", "value_already_exist")
    for name, most in (("code", 255), ("name", 255), ("description", 600)):
        if isinstance(params.get(name), str) and len(params[name]) > most:
            problems.add(name, "value_is_too_long")
    privileges = _privileges(params.get("privileges") or [], problems)
    problems.raise_if_any()
    feature = {
        "code": code,
        "name": params.get("name"),
        "description": params.get("description"),
        "privileges": privileges,
    }
    feature = standin.store.insert(KIND, feature, key=code)
    if notify:
        standin.webhooks.emit("feature.created", serialize(standin, feature))
    return feature


def privilege(feature: dict[str, Any], code: str) -> dict[str, Any] | None:
    """The feature's privilege with this code."""
    return next((p for p in feature.get("privileges", []) if p["code"] == code), None)


@register_object("feature")
def _find_for_trigger(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    feature = find(standin, identifier) or standin.store.get(KIND, identifier)
    return serialize(standin, feature) if feature else None


@bp.post("/features")
def create_feature():
    standin = current()
    return jsonify(feature=serialize(standin, create(standin, require("feature"))))


@bp.get("/features")
def list_features():
    standin = current()
    found = standin.store.all(KIND)
    return jsonify(
        pagination.collection("features", found, lambda f: serialize(standin, f), request.args)
    )


@bp.get("/features/<code>")
def get_feature(code: str):
    standin = current()
    return jsonify(feature=serialize(standin, get_or_404(standin, code)))


@bp.delete("/features/<code>")
def delete_feature(code: str):
    standin = current()
    feature = get_or_404(standin, code)
    serialized = serialize(standin, feature)
    standin.store.soft_delete(KIND, feature)
    for plan in standin.store.all("plan"):
        kept = [e for e in plan.get("entitlements", []) if e["feature_code"] != code]
        if len(kept) != len(plan.get("entitlements", [])):
            plan = standin.store.save("plan", plan | {"entitlements": kept}, key=plan["code"])
            standin.webhooks.emit("plan.updated", plans.serialize(standin, plan))
    standin.webhooks.emit("feature.deleted", serialized)
    return jsonify(feature=serialized)
