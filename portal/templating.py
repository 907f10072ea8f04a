"""Template filters and globals: money and dates with Babel, the current membership."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_precision,
)
from flask import Flask
from flask_login import current_user

from portal.access import current_membership
from portal.models import utcnow

LOCALE = "en"


def viewer_zone(timezone: str | None = None) -> ZoneInfo:
    """The zone to show times in: the one given, else the viewer's, else UTC."""
    name = timezone or (
        current_user.timezone if current_user and current_user.is_authenticated else "UTC"
    )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_datetime(
    value: datetime | None, format: str = "medium", timezone: str | None = None
) -> str:
    """A timestamp in the viewer's time zone."""
    if value is None:
        return "—"
    return format_datetime(value, format=format, tzinfo=viewer_zone(timezone), locale=LOCALE)


def local_date(value: datetime | None, format: str = "medium", timezone: str | None = None) -> str:
    """The calendar day of a timestamp in a time zone (the viewer's by default)."""
    if value is None:
        return "—"
    return format_date(value.astimezone(viewer_zone(timezone)), format=format, locale=LOCALE)


def time_ago(value: datetime | None) -> str:
    """'5 minutes ago' for a past timestamp."""
    if value is None:
        return "never"
    return format_timedelta(value - utcnow(), add_direction=True, locale=LOCALE)


def money(amount_cents: int | None, currency: str = "USD") -> str:
    """Integer minor units in a currency, formatted for people."""
    if amount_cents is None:
        return "—"
    precision = get_currency_precision(currency)
    amount = Decimal(amount_cents).scaleb(-precision)
    return format_currency(amount, currency, locale=LOCALE)


def number(value: Decimal | int | float | None) -> str:
    """A quantity for people (thousands grouped, no trailing zeros)."""
    if value is None:
        return "—"
    return format_decimal(Decimal(str(value)).normalize(), locale=LOCALE)


def percent(rate: Decimal | str | None) -> str:
    """A rate given in percent (Lago's "12.5") for people: "12.5%"."""
    if rate is None:
        return "—"
    return format_percent(Decimal(str(rate)) / 100, format="#,##0.##%", locale=LOCALE)


class MacroLibrary:
    """A macro template exposed as a global, loaded on first use.

    Globals stay visible when htmx asks for a single block, where a template's own
    `{% from ... import %}` lines would not have run.
    """

    def __init__(self, env, name: str):
        self._env, self._name, self._module = env, name, None

    def __getattr__(self, attr: str):
        if self._module is None:
            self._module = self._env.get_template(self._name).make_module()
        return getattr(self._module, attr)


def init_app(app: Flask) -> None:
    """Register filters and globals."""
    app.jinja_env.filters.update(
        local_datetime=local_datetime,
        local_date=local_date,
        time_ago=time_ago,
        money=money,
        number=number,
        percent=percent,
    )
    app.jinja_env.globals["forms"] = MacroLibrary(app.jinja_env, "macros/forms.html")
    app.jinja_env.globals["live"] = MacroLibrary(app.jinja_env, "macros/live.html")

    @app.context_processor
    def inject_membership():
        membership = current_membership()
        return {
            "current_membership": membership,
            "current_tenant": membership.tenant if membership else None,
        }
