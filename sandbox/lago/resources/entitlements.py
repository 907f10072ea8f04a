"""Plan entitlements: the features a plan grants, with a value for each privilege.

A plan document keeps `entitlements` as [{"feature_code", "values": {privilege_code: value}}];
names, descriptions and value types come from the features when serialized, as
V1::Entitlement::PlanEntitlementSerializer does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from .. import errors
from ..state import Standin, current
from . import features, json_body, plans

bp = Blueprint("entitlements", __name__)

TRUE_WORDS = {"true", "1", "t", "on", "yes"}


def cast_value(value: Any, value_type: str) -> Any:
    """Utils::Entitlement.cast_value: integers and booleans typed, the rest as stored."""
    if value is None:
        return None
    if value_type == "integer":
        try:
            return int(str(value).strip() or 0)
        except ValueError:
            return 0
    if value_type == "boolean":
        return value if isinstance(value, bool) else str(value).strip().lower() in TRUE_WORDS
    return value


def serialize_one(standin: Standin, entitlement: dict[str, Any]) -> dict[str, Any] | None:
    """One entitlement with its feature's facts (None when the feature is gone)."""
    feature = features.find(standin, entitlement["feature_code"])
    if feature is None:
        return None
    privileges = []
    for code, value in entitlement.get("values", {}).items():
        privilege = features.privilege(feature, code)
        if privilege is None:
            continue
        privileges.append(
            {
                "code": privilege["code"],
                "name": privilege.get("name"),
                "value_type": privilege["value_type"],
                "value": cast_value(value, privilege["value_type"]),
                "config": privilege.get("config") or {},
            }
        )
    return {
        "code": feature["code"],
        "name": feature.get("name"),
        "description": feature.get("description"),
        "privileges": privileges,
    }


def serialize_all(standin: Standin, plan: dict[str, Any]) -> list[dict[str, Any]]:
    """A plan's entitlements, as its `entitlements` key and the entitlements index render them."""
    found = (serialize_one(standin, e) for e in plan.get("entitlements", []))
    return [item for item in found if item is not None]


def _checked_value(value: Any, privilege: dict[str, Any]) -> Any:
    """CreateOrUpdateConcern#validate_value: a 422 for a value the privilege cannot hold."""
    kind = privilege["value_type"]
    ok = (
        value is None
        or (kind == "select" and value in (privilege.get("config") or {}).get("select_options", []))
        or (kind == "boolean" and value in (True, False, "true", "false"))
        or (kind == "integer" and isinstance(value, int) and not isinstance(value, bool))
        or (kind == "integer" and isinstance(value, str) and str(_to_i(value)) == value)
        or (kind == "string" and isinstance(value, str))
    )
    if ok:
        return value
    error = "value_not_in_select_options" if kind == "select" else "value_is_invalid"
    raise errors.validation_errors({f"{privilege['code']}_privilege_value": [error]})


def _to_i(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def set_entitlements(
    standin: Standin, plan: dict[str, Any], wanted: dict[str, Any], *, partial: bool
) -> dict[str, Any]:
    """Entitlement::PlanEntitlementsUpdateService: replace (or, partial, merge) the plan's
    entitlements and send plan.updated; 404 for an unknown feature or privilege, 422 for a bad
    value."""
    plan = grant(standin, plan, wanted, partial=partial)
    standin.webhooks.emit("plan.updated", plans.serialize(standin, plan))
    return plan


def grant(
    standin: Standin, plan: dict[str, Any], wanted: dict[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """Store the plan's entitlements without a webhook (the seed's way)."""
    if not isinstance(wanted, dict):
        raise errors.bad_request("entitlements must be an object")
    current_list = [dict(e) for e in plan.get("entitlements", [])]
    if not partial:
        current_list = [e for e in current_list if e["feature_code"] in wanted]
    by_code = {e["feature_code"]: e for e in current_list}
    for feature_code, values in wanted.items():
        feature = features.find(standin, feature_code)
        if feature is None:
            raise errors.not_found("feature")
        entry = by_code.get(feature_code)
        if entry is None:
            entry = {"feature_code": feature_code, "values": {}}
            current_list.append(entry)
            by_code[feature_code] = entry
        values = values if isinstance(values, dict) else {}
        kept = dict(entry.get("values", {}))
        if not partial and values:
            kept = {k: v for k, v in kept.items() if k in values}
        for privilege_code, value in values.items():
            privilege = features.privilege(feature, privilege_code)
            if privilege is None:
                raise errors.not_found("privilege")
            kept[privilege_code] = _checked_value(value, privilege)
        entry["values"] = kept
    return standin.store.save("plan", plan | {"entitlements": current_list}, key=plan["code"])


def _one_or_404(standin: Standin, plan: dict[str, Any], feature_code: str) -> dict[str, Any]:
    entry = next(
        (e for e in plan.get("entitlements", []) if e["feature_code"] == feature_code), None
    )
    found = serialize_one(standin, entry) if entry is not None else None
    if found is None:
        raise errors.not_found("entitlement")
    return found


@bp.get("/plans/<code>/entitlements")
def list_entitlements(code: str):
    standin = current()
    plan = plans.get_or_404(standin, code)
    return jsonify(entitlements=serialize_all(standin, plan))


def _set(code: str, *, partial: bool):
    standin = current()
    plan = plans.get_or_404(standin, code)
    plan = set_entitlements(standin, plan, json_body().get("entitlements") or {}, partial=partial)
    return jsonify(entitlements=serialize_all(standin, plan))


@bp.post("/plans/<code>/entitlements")
def replace_entitlements(code: str):
    return _set(code, partial=False)


@bp.patch("/plans/<code>/entitlements")
def update_entitlements(code: str):
    return _set(code, partial=True)


@bp.get("/plans/<code>/entitlements/<feature_code>")
def get_entitlement(code: str, feature_code: str):
    standin = current()
    plan = plans.get_or_404(standin, code)
    return jsonify(entitlement=_one_or_404(standin, plan, feature_code))


@bp.delete("/plans/<code>/entitlements/<feature_code>")
def delete_entitlement(code: str, feature_code: str):
    standin = current()
    plan = plans.get_or_404(standin, code)
    found = _one_or_404(standin, plan, feature_code)
    kept = [e for e in plan.get("entitlements", []) if e["feature_code"] != feature_code]
    plan = standin.store.save("plan", plan | {"entitlements": kept}, key=plan["code"])
    standin.webhooks.emit("plan.updated", plans.serialize(standin, plan))
    return jsonify(entitlement=found)
