"""The plan catalogue: Lago's plans next to Pier's, their differences, import and push."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from portal import audit
from portal.extensions import db
from portal.lago import LagoClient
from portal.lago import Plan as LagoPlan
from portal.models import BillingConnection, Plan, utcnow

MIRRORED = (
    "name",
    "interval",
    "amount_cents",
    "currency",
    "trial_period_days",
    "pay_in_advance",
    "charges",
    "entitlements",
)


def _charges(lago_plan: LagoPlan) -> list[dict]:
    return [
        {
            "code": charge.code,
            "billable_metric_code": charge.billable_metric_code,
            "charge_model": charge.charge_model,
            "invoice_display_name": charge.invoice_display_name,
            "pay_in_advance": charge.pay_in_advance,
        }
        for charge in lago_plan.charges
    ]


def _entitlements(lago_plan: LagoPlan) -> list[dict]:
    return [
        {
            "code": entitlement.code,
            "name": entitlement.name,
            "description": entitlement.description,
            "privileges": [
                {
                    "code": privilege.code,
                    "name": privilege.name,
                    "value_type": privilege.value_type,
                    "value": privilege.value,
                }
                for privilege in entitlement.privileges
            ],
        }
        for entitlement in lago_plan.entitlements
    ]


def mirrored_values(lago_plan: LagoPlan) -> dict:
    """The fields Pier copies from a Lago plan."""
    return {
        "name": lago_plan.name,
        "interval": lago_plan.interval,
        "amount_cents": lago_plan.amount_cents,
        "currency": lago_plan.amount_currency,
        "trial_period_days": float(lago_plan.trial_period_days or 0),
        "pay_in_advance": bool(lago_plan.pay_in_advance),
        "charges": _charges(lago_plan),
        "entitlements": _entitlements(lago_plan),
    }


def fingerprint(values: dict) -> str:
    """A stable hash of mirrored values, to tell a changed plan."""
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class DiffRow:
    """One plan code compared between Lago and Pier."""

    code: str
    status: str  # new, changed, removed, same
    lago: LagoPlan | None = None
    pier: Plan | None = None
    changes: list[str] = field(default_factory=list)


def pier_plans() -> list[Plan]:
    """Pier's catalogue in display order."""
    return list(db.session.scalars(sa.select(Plan).order_by(Plan.position, Plan.id)))


def diff_catalogue(lago_plans: list[LagoPlan]) -> list[DiffRow]:
    """Compare Lago's plans with Pier's: new in Lago, changed, removed from Lago, or the same."""
    ours = {plan.code: plan for plan in pier_plans()}
    rows = []
    for lago_plan in lago_plans:
        plan = ours.pop(lago_plan.code, None)
        if plan is None:
            rows.append(DiffRow(lago_plan.code, "new", lago=lago_plan))
            continue
        values = mirrored_values(lago_plan)
        changes = [name for name in MIRRORED if getattr(plan, name) != values[name]]
        rows.append(
            DiffRow(lago_plan.code, "changed" if changes else "same", lago_plan, plan, changes)
        )
    rows.extend(DiffRow(code, "removed", pier=plan) for code, plan in ours.items())
    order = {"new": 0, "changed": 1, "removed": 2, "same": 3}
    return sorted(rows, key=lambda row: (order[row.status], row.code))


def import_plan(lago_plan: LagoPlan) -> Plan:
    """Create or refresh Pier's plan from Lago, keeping Pier's own fields (the caller commits)."""
    plan = db.session.scalar(sa.select(Plan).where(Plan.code == lago_plan.code))
    values = mirrored_values(lago_plan)
    if plan is None:
        position = (db.session.scalar(sa.select(sa.func.max(Plan.position))) or 0) + 1
        plan = Plan(code=lago_plan.code, position=position, description=lago_plan.description)
        db.session.add(plan)
    for name, value in values.items():
        setattr(plan, name, value)
    plan.lago_id = lago_plan.lago_id
    plan.lago_fingerprint = fingerprint(values)
    plan.removed_from_lago_at = None
    plan.synced_at = utcnow()
    return plan


@dataclass
class SyncResult:
    """What a catalogue sync did."""

    imported: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{len(self.imported)} imported",
            f"{len(self.updated)} updated",
            f"{len(self.removed)} removed",
        ]
        return ", ".join(parts)


def sync_catalogue(
    client: LagoClient, *, import_new: bool, codes: set[str] | None = None
) -> SyncResult:
    """Bring Pier's catalogue up to date with Lago (the caller commits)."""
    result = SyncResult()
    for row in diff_catalogue(client.list_plans()):
        if codes is not None and row.code not in codes:
            continue
        if row.status == "new" and import_new:
            import_plan(row.lago)
            result.imported.append(row.code)
        elif row.status == "changed":
            import_plan(row.lago)
            result.updated.append(row.code)
        elif row.status == "removed" and row.pier.removed_from_lago_at is None:
            row.pier.removed_from_lago_at = utcnow()
            row.pier.visible = False
            result.removed.append(row.code)
    connection = db.session.scalar(sa.select(BillingConnection).limit(1))
    if connection is not None:
        connection.last_plan_sync_at = utcnow()
    if result.imported or result.updated or result.removed:
        audit.record(
            "plans.synced",
            after={
                "imported": result.imported,
                "updated": result.updated,
                "removed": result.removed,
            },
        )
    return result


def create_plan_in_lago(
    client: LagoClient,
    *,
    code: str,
    name: str,
    interval: str,
    amount_cents: int,
    currency: str,
    trial_days: int,
    description: str | None,
) -> Plan:
    """Create a plan in Lago and import it into Pier (the caller commits)."""
    payload = {
        "name": name,
        "code": code,
        "interval": interval,
        "amount_cents": amount_cents,
        "amount_currency": currency,
        "trial_period": trial_days,
        "pay_in_advance": True,
        "description": description or "",
    }
    plan = import_plan(client.create_plan(payload))
    db.session.flush()
    audit.record("plan.created_in_lago", target=plan, after={"code": code, "name": name})
    return plan


def update_plan_details(plan: Plan, *, switch_targets: list[Plan], **values) -> None:
    """Change what only Pier keeps about a plan and audit it (the caller commits)."""
    before = {key: getattr(plan, key) for key in values}
    before["switch_targets"] = sorted(p.code for p in plan.switch_targets)
    for key, value in values.items():
        setattr(plan, key, value)
    plan.switch_targets = switch_targets
    after = dict(values, switch_targets=sorted(p.code for p in switch_targets))
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        audit.record(
            "plan.updated", target=plan, before={k: before[k] for k in changed}, after=changed
        )
