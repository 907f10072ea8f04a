"""Usage alerts evaluated by Pier on the usage it reads from Lago: at 50, 80 and 100 % of a
customer's target, an in-app notice and an email, each once per alert, level and period."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Tenant, UsageAlert, utcnow
from portal.notify import emails, formatting, notices
from portal.templating import money, number
from portal.usage.current import CurrentUsage, SubscriptionUsage

LEVELS = (50, 80, 100)
KIND = "usage_alert"


@dataclass(frozen=True)
class Reached:
    """An alert's level reached in one period."""

    alert: UsageAlert
    level: int
    value: Decimal
    period_key: str
    words: str


def for_tenant(tenant: Tenant) -> list[UsageAlert]:
    """The tenant's alerts, oldest first."""
    return list(
        db.session.scalars(
            sa.select(UsageAlert).filter_by(tenant_id=tenant.id).order_by(UsageAlert.id)
        )
    )


def add(
    tenant: Tenant, user_id: int | None, metric: tuple[str, str] | None, target: Decimal
) -> UsageAlert:
    """An alert on a metric (code, name), or with none on the usage amount (currency units)."""
    alert = UsageAlert(
        tenant_id=tenant.id,
        metric_code=metric[0] if metric else None,
        metric_name=metric[1] if metric else None,
        target=format(target, "f"),
        created_by=user_id,
        created_at=utcnow(),
    )
    db.session.add(alert)
    return alert


def remove(tenant: Tenant, alert_id: int) -> bool:
    """Delete one of the tenant's alerts; False when it is not theirs."""
    alert = db.session.scalar(sa.select(UsageAlert).filter_by(id=alert_id, tenant_id=tenant.id))
    if alert is None:
        return False
    db.session.delete(alert)
    return True


def _value(alert: UsageAlert, sub: SubscriptionUsage) -> Decimal | None:
    if alert.metric_code is None:
        return Decimal(sub.amount_cents) / 100
    found = [m.units for m in sub.metrics if m.code == alert.metric_code]
    return sum(found, Decimal(0)) if found else None


def describe(alert: UsageAlert, currency: str = "USD") -> str:
    """What the alert watches, in words."""
    target = Decimal(alert.target)
    if alert.metric_code is None:
        return f"usage amount reaches {money(int(target * 100), currency)}"
    return f"{alert.metric_name or alert.metric_code} reaches {number(target)}"


def reached(alerts: list[UsageAlert], usage: CurrentUsage) -> list[Reached]:
    """Each alert's highest level reached in each subscription's current period."""
    found = []
    for sub in usage.subscriptions:
        if not sub.started or sub.from_datetime is None:
            continue
        period_key = f"{sub.external_id}:{sub.from_datetime.date().isoformat()}"
        for alert in alerts:
            value = _value(alert, sub)
            target = Decimal(alert.target)
            if value is None or target <= 0:
                continue
            for level in LEVELS:
                if value * 100 >= target * level:
                    found.append(
                        Reached(alert, level, value, period_key, describe(alert, sub.currency))
                    )
    return found


def notify(tenant: Tenant, usage: CurrentUsage) -> int:
    """Raise the notice of every level newly reached, then send each reached level's email
    (once per key: a failed one is retried, a sent one never). Returns the new notices.
    Commits, because emails go out only after the notices are stored."""
    hits = []
    opened = 0
    for hit in reached(for_tenant(tenant), usage):
        key = f"{KIND}:{hit.alert.id}:{hit.period_key}:{hit.level}"
        title = f"{hit.level} % of your alert: {hit.words}"
        if notices.find(key) is None:
            notices.raise_notice(key, tenant_id=tenant.id, kind=KIND, title=title, body="")
            opened += 1
        hits.append((key, title, hit))
    db.session.commit()
    for key, title, hit in hits:
        emails.send_once(
            key,
            tenant,
            "usage_alert",
            emails.recipients_for(tenant),
            f"Usage alert: {title}",
            fmt=formatting,
            level=hit.level,
            words=hit.words,
        )
    return opened
