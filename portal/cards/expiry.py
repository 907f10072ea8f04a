"""Cards about to expire: the card the invoices are charged to, told in the month before its
last month, once per card and expiry month.

The cron (`jobs.emails.send_card_expiry_reminders`) picks the cards from the mirror and queues
one email each; the email job asks Stripe again (`recheck`) before it goes, so a card replaced
(another default, a new expiry from the card updater) or removed meanwhile is not told about.
Other cards are not: an expiring card nothing is charged to costs the customer nothing.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from babel.dates import format_date

from portal import payments
from portal.cards import services
from portal.extensions import db
from portal.models import Card, EmailLog, Tenant, utcnow
from portal.payments import errors
from portal.templating import LOCALE, viewer_zone

KIND = "card_expiring"


def month_after(today: date) -> str:
    """The month after `today`'s, as 'YYYY-MM'."""
    return f"{today.year + today.month // 12}-{today.month % 12 + 1:02d}"


def expiry_month(card: Card) -> str | None:
    """The card's last valid month, as 'YYYY-MM'."""
    if not card.exp_month or not card.exp_year:
        return None
    return f"{card.exp_year}-{card.exp_month:02d}"


def local_today(tenant: Tenant, now: datetime | None = None) -> date:
    """Today in the tenant's time zone."""
    return (now or utcnow()).astimezone(viewer_zone(tenant.timezone)).date()


def email_key(card: Card, month: str) -> str:
    """The email's dedupe key: one per card and expiry month."""
    return f"{KIND}:{card.stripe_id}:{month}"


def month_words(month: str) -> str:
    """'2026-05' as 'May 2026'."""
    year, number = month.split("-")
    return format_date(date(int(year), int(number), 1), "MMMM y", locale=LOCALE)


def expiring(card: Card | None, month: str, now: datetime | None = None) -> bool:
    """True while `card` is a default card on file whose last month is `month`, the month after
    this one in its tenant's zone."""
    if card is None or card.removed_at is not None or not card.is_default:
        return False
    tenant = db.session.get(Tenant, card.tenant_id)
    return (
        tenant is not None
        and expiry_month(card) == month
        and month_after(local_today(tenant, now)) == month
    )


def due(now: datetime | None = None) -> list[tuple[int, str]]:
    """(card id, expiry month) of the default cards whose last month is next month and whose
    email has not been sent yet."""
    now = now or utcnow()
    # Time zones put "next month" at most one month either side of UTC's.
    utc = month_after(now.date())
    year, number = (int(part) for part in utc.split("-"))
    index = year * 12 + number - 1
    months = Card.exp_year * 12 + Card.exp_month - 1
    candidates = db.session.scalars(
        sa.select(Card)
        .where(
            Card.removed_at.is_(None),
            Card.is_default.is_(True),
            months.between(index - 1, index + 1),
        )
        .order_by(Card.id)
    )
    found = []
    for card in candidates:
        month = expiry_month(card)
        if month is not None and expiring(card, month, now) and not _sent(email_key(card, month)):
            found.append((card.id, month))
    return found


def _sent(key: str) -> bool:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(EmailLog)
            .where(EmailLog.dedupe_key.startswith(f"{key}|"), EmailLog.status == "sent")
        )
        > 0
    )


def recheck(card_id: int, *, final: bool = False) -> Card | None:
    """The card as Stripe has it now (written to the mirror). When Stripe cannot be asked this
    raises, so the job retries; on its last try (`final`), or with Stripe not connected, the
    mirror decides."""
    card = db.session.get(Card, card_id)
    if card is None:
        return None
    tenant = db.session.get(Tenant, card.tenant_id)
    try:
        services.refresh(tenant)
    except errors.NotConfigured:
        pass
    except payments.PaymentError:
        if not final:
            raise
    return db.session.scalar(
        sa.select(Card).where(Card.id == card_id).execution_options(populate_existing=True)
    )
