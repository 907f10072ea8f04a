"""Money, days and moments in words, in the tenant's currency and time zone (Babel)."""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from babel.dates import format_date
from flask import current_app

from portal.templating import LOCALE, local_datetime, money, viewer_zone

MOMENT = "MMMM d, y 'at' h:mm a"


def amount(cents: int | None, currency: str | None) -> str:
    """Integer minor units as money, e.g. '$49.00'."""
    return money(cents, currency or "USD")


def day(value: datetime | None) -> str:
    """A Lago calendar date (stored as midnight UTC) as words, e.g. 'May 1, 2025'."""
    if value is None:
        return "—"
    return format_date(value.date(), format="long", locale=LOCALE)


def moment(value: datetime | None, timezone: str) -> str:
    """A timestamp in the tenant's time zone, e.g. 'May 1, 2025 at 9:00 AM (Europe/Lisbon)'."""
    if value is None:
        return "—"
    zone = viewer_zone(timezone)
    return f"{local_datetime(value, MOMENT, timezone=zone.key)} ({zone.key.replace('_', ' ')})"


def local_day(value: datetime | None, timezone: str) -> str:
    """The calendar day of a timestamp in the tenant's time zone, e.g. 'May 1, 2025'."""
    if value is None:
        return "—"
    return format_date(value.astimezone(viewer_zone(timezone)).date(), "long", locale=LOCALE)


def billing_contact() -> str:
    """The address people can write to about billing: the sender of Pier's emails."""
    return parseaddr(current_app.config.get("MAIL_FROM", ""))[1]


def link(endpoint: str, *, anchor: str | None = None, **values) -> str:
    """An absolute link to a page of Pier on `PIER_BASE_URL` (emails and notices are read away
    from any request, and behind a proxy the request's host may not be the public one)."""
    base = urlsplit(current_app.config["PIER_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def fix_link() -> str:
    """The fix-it flow: choose or add a card, then retry every unpaid invoice."""
    return link("cards.fix")


def pay_link(invoice_lago_id: str) -> str:
    """Pier's page that opens where this invoice's payment is confirmed (3-D Secure) or paid."""
    return link("cards.pay", invoice_id=invoice_lago_id)
