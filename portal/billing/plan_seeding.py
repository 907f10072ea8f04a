"""Make Lago's billable metrics and plans match a plans file: create, update or leave alone.

Only what the file says is compared (Lago fills in defaults the file need not repeat), numbers
compare by value ("0.50" is 0.5), and a plan's charges keep their Lago ids so an update edits
them rather than replacing them. Running it twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.billing.seed_file import SeedFile, SeedFileError
from portal.lago import LagoClient
from portal.lago.types import BillableMetric

CHARGE_FIELDS = ("charge_model", "invoice_display_name", "pay_in_advance", "min_amount_cents")


@dataclass
class SeedReport:
    """What was created, updated and left unchanged, and what Lago would not change."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def same(wanted: Any, actual: Any) -> bool:
    """Whether Lago's value says what the file says (mappings: the file's keys only)."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(same(v, actual.get(k)) for k, v in wanted.items())
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(wanted) == len(actual)
            and all(same(w, a) for w, a in zip(wanted, actual, strict=True))
        )
    numbers = _number(wanted), _number(actual)
    if None not in numbers:
        return numbers[0] == numbers[1]
    return wanted == actual


def differences(wanted: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """The file's keys whose value Lago does not have."""
    return [key for key, value in wanted.items() if not same(value, actual.get(key))]


def _charges_differ(wanted: list[dict[str, Any]], actual: list[dict[str, Any]]) -> bool:
    by_code = {c.get("billable_metric_code"): c for c in actual}
    if set(by_code) != {c["billable_metric"] for c in wanted} or len(actual) != len(wanted):
        return True
    for charge in wanted:
        have = by_code[charge["billable_metric"]]
        if differences({k: v for k, v in charge.items() if k in CHARGE_FIELDS}, have):
            return True
        if not same(charge.get("properties") or {}, have.get("properties") or {}):
            return True
    return False


def plan_differences(wanted: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """The plan keys (and `charges`) where Lago differs from the file."""
    found = differences({k: v for k, v in wanted.items() if k != "charges"}, actual)
    if "charges" in wanted and _charges_differ(wanted["charges"], actual.get("charges") or []):
        found.append("charges")  # a file without `charges` leaves Lago's alone
    return found


def _plan_payload(
    wanted: dict[str, Any], metrics: dict[str, BillableMetric], actual: dict[str, Any] | None
) -> dict[str, Any]:
    payload = {k: v for k, v in wanted.items() if k != "charges"}
    if "charges" not in wanted:
        return payload  # Lago replaces the charges it is sent, so none are sent
    existing = {c.get("billable_metric_code"): c for c in (actual or {}).get("charges") or []}
    charges = []
    for charge in wanted["charges"]:
        code = charge["billable_metric"]
        item = {k: v for k, v in charge.items() if k != "billable_metric"}
        item["billable_metric_id"] = metrics[code].lago_id
        if code in existing:
            item["id"] = existing[code]["lago_id"]  # edited in place, not replaced
        charges.append(item)
    return payload | {"charges": charges}


def _check_metrics_exist(seed: SeedFile, metrics: dict[str, BillableMetric]) -> None:
    problems = [
        f"plans ({plan['code']}): the billable metric {charge['billable_metric']} is neither in "
        "the file nor in Lago"
        for plan in seed.plans
        for charge in plan.get("charges") or []
        if charge["billable_metric"] not in metrics
        and charge["billable_metric"] not in {m["code"] for m in seed.metrics}
    ]
    if problems:
        raise SeedFileError(problems)


def seed_plans(client: LagoClient, seed: SeedFile) -> SeedReport:
    """Bring Lago in line with the file (raises LagoError on Lago's refusals, SeedFileError
    before any change when a charge names a metric nobody has)."""
    report = SeedReport()
    metrics = {m.code: m for m in client.list_billable_metrics()}
    _check_metrics_exist(seed, metrics)
    for wanted in seed.metrics:
        label = f"billable metric {wanted['code']}"
        have = metrics.get(wanted["code"])
        if have is None:
            metrics[wanted["code"]] = client.create_billable_metric(wanted)
            report.created.append(label)
        elif differences(wanted, have.raw):
            updated = client.update_billable_metric(wanted["code"], wanted)
            metrics[wanted["code"]] = updated
            report.updated.append(label)
            kept = differences(wanted, updated.raw)
            if kept:
                report.warnings.append(
                    f"{label}: Lago kept its {', '.join(kept)}: a plan charges this metric, and "
                    "Lago then changes only its name, description and filters."
                )
        else:
            report.unchanged.append(label)
    plans = {p.code: p for p in client.list_plans()}
    for wanted in seed.plans:
        label = f"plan {wanted['code']}"
        have = plans.get(wanted["code"])
        if have is None:
            client.create_plan(_plan_payload(wanted, metrics, None))
            report.created.append(label)
        elif plan_differences(wanted, have.raw):
            updated = client.update_plan(wanted["code"], _plan_payload(wanted, metrics, have.raw))
            report.updated.append(label)
            kept = plan_differences(wanted, updated.raw)
            if kept:
                report.warnings.append(
                    f"{label}: Lago kept its {', '.join(kept)}: the plan has subscriptions, and "
                    "Lago then changes only its name, description, display name and price."
                )
        else:
            report.unchanged.append(label)
    return report
