"""Usage alerts a customer sets: at 50, 80 and 100 % of the target, an in-app notice and an
email, each once per alert, level and period. Lago evaluates an alert on the subscriptions that
hold its copy (`portal.usage.lago_alerts`, announced by its `alert.triggered` webhook); Pier's
job evaluates the rest on the usage it reads from Lago. Both announce through `announce`, keyed
the same way, so a level is told once whoever saw it first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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


def find(tenant: Tenant, alert_id: int) -> UsageAlert | None:
    """One of the tenant's alerts (None for another tenant's)."""
    return db.session.scalar(sa.select(UsageAlert).filter_by(id=alert_id, tenant_id=tenant.id))


def remove(tenant: Tenant, alert_id: int) -> bool:
    """Delete one of the tenant's alerts; False when it is not theirs."""
    alert = find(tenant, alert_id)
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


def period_key(external_subscription_id: str, period_start: datetime) -> str:
    """Names one period of one subscription (its charges start, as Lago's usage gives it)."""
    return f"{external_subscription_id}:{period_start.date().isoformat()}"


def notice_key(alert_id: int, period: str, level: int) -> str:
    """The notice, and the email's dedupe key, of one alert's level in one period."""
    return f"{KIND}:{alert_id}:{period}:{level}"


def title_of(level: int, words: str) -> str:
    return f"{level} % of your alert: {words}"


def reached(alerts: list[UsageAlert], usage: CurrentUsage) -> list[Reached]:
    """Each level reached by each alert in each subscription's current period, leaving out the
    subscriptions on which Lago evaluates the alert."""
    found = []
    for sub in usage.subscriptions:
        if not sub.started or sub.from_datetime is None:
            continue
        key = period_key(sub.external_id, sub.from_datetime)
        for alert in alerts:
            if alert.held_by_lago(sub.external_id):
                continue
            value = _value(alert, sub)
            target = Decimal(alert.target)
            if value is None or target <= 0:
                continue
            for level in LEVELS:
                if value * 100 >= target * level:
                    found.append(Reached(alert, level, value, key, describe(alert, sub.currency)))
    return found


def announce(tenant: Tenant, alert: UsageAlert, level: int, period: str, words: str) -> bool:
    """Open the notice of one level in one period unless it exists; True when it is new.
    The caller commits, then sends (or queues) the email keyed `notice_key`."""
    key = notice_key(alert.id, period, level)
    if notices.find(key) is not None:
        return False
    notices.raise_notice(key, tenant_id=tenant.id, kind=KIND, title=title_of(level, words), body="")
    return True


def send_email(tenant: Tenant, key: str, level: int, words: str) -> None:
    """The email of one level (sent once per key: a failed one is retried, a sent one never)."""
    emails.send_once(
        key,
        tenant,
        "usage_alert",
        emails.recipients_for(tenant),
        f"Usage alert: {title_of(level, words)}",
        fmt=formatting,
        level=level,
        words=words,
    )


def notify(tenant: Tenant, usage: CurrentUsage) -> int:
    """Raise the notice of every level newly reached, then send each reached level's email.
    Returns the new notices. Commits, because emails go out only after the notices are
    stored."""
    hits = reached(for_tenant(tenant), usage)
    opened = sum(announce(tenant, h.alert, h.level, h.period_key, h.words) for h in hits)
    db.session.commit()
    for hit in hits:
        send_email(
            tenant, notice_key(hit.alert.id, hit.period_key, hit.level), hit.level, hit.words
        )
    return opened
