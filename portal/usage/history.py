"""Billed usage of past periods (Lago's `past_usage`), for the history chart and its table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from portal.billing.connection import lago_client
from portal.lago.types import CustomerUsage
from portal.models import Tenant
from portal.usage.cache import remembered
from portal.usage.current import active_subscriptions

PERIODS = 6
CACHE_SECONDS = 600


@dataclass(frozen=True)
class PastPeriod:
    """One billed period: its window, the amount of its usage and the units per metric."""

    from_datetime: datetime | None
    to_datetime: datetime | None
    amount_cents: int
    units: dict[str, Decimal]


@dataclass(frozen=True)
class History:
    """The last periods of the tenant's subscription, oldest first."""

    currency: str
    metrics: dict[str, str]  # code -> name, in the order first seen
    periods: tuple[PastPeriod, ...]

    def chart_data(self) -> dict:
        """What the chart draws: one bar per period (the usage amount) and units per metric."""
        return {
            "currency": self.currency,
            "labels": [
                p.from_datetime.date().isoformat() if p.from_datetime else "" for p in self.periods
            ],
            "times": [
                int(p.from_datetime.timestamp()) if p.from_datetime else 0 for p in self.periods
            ],
            "amounts": [p.amount_cents / 100 for p in self.periods],
            "metrics": [
                {
                    "code": code,
                    "name": name,
                    "units": [float(p.units.get(code, 0)) for p in self.periods],
                }
                for code, name in self.metrics.items()
            ],
        }


def _usage_amount(usage: CustomerUsage) -> int:
    """The usage part of a period: its charges (Lago's amount also counts the base fee)."""
    return sum(c.amount_cents for c in usage.charges_usage)


def read_from_lago(tenant: Tenant, periods: int) -> list[dict]:
    """Lago's billed periods (raw JSON) of the tenant's oldest active subscription."""
    subscriptions = active_subscriptions(tenant)
    if not subscriptions:
        return []
    page = lago_client().get_past_usage(
        tenant.customer_external_id, subscriptions[0].external_id, periods_count=periods
    )
    return [usage.raw for usage in page.items]


def past_usage(tenant: Tenant, periods: int = PERIODS) -> History:
    """The last `periods` billed periods, from a cache kept `CACHE_SECONDS`."""
    raw = remembered(
        ("past", str(tenant.id), str(periods)),
        CACHE_SECONDS,
        lambda: read_from_lago(tenant, periods),
    )
    found = sorted(
        (CustomerUsage.from_api(item) for item in raw),
        key=lambda u: (u.from_datetime is None, u.from_datetime),
    )
    metrics: dict[str, str] = {}
    windows: dict[datetime | None, PastPeriod] = {}
    for usage in found:
        if not usage.charges_usage:
            continue  # an invoice of the base fee alone bills no usage
        # Lago lists a period once per invoice that billed it (the advance fee at the start,
        # the usage at the end): one window, one bar.
        known = windows.get(usage.from_datetime)
        units = dict(known.units) if known else {}
        for charge in usage.charges_usage:
            code = charge.billable_metric_code
            metrics.setdefault(code, charge.invoice_display_name or charge.billable_metric_name)
            units[code] = units.get(code, Decimal(0)) + charge.units
        ends = [d for d in (usage.to_datetime, known.to_datetime if known else None) if d]
        windows[usage.from_datetime] = PastPeriod(
            usage.from_datetime,
            max(ends) if ends else None,
            _usage_amount(usage) + (known.amount_cents if known else 0),
            units,
        )
    periods_found = list(windows.values())
    currency = found[0].currency if found else "USD"
    return History(currency=currency, metrics=metrics, periods=tuple(periods_found))
