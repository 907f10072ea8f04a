"""Plans: compare what a customer may move to, preview the change, then confirm it."""

from flask import Blueprint

bp = Blueprint("plans", __name__)

from portal.plans import routes  # noqa: E402,F401


@bp.app_template_filter("calendar_day")
def calendar_day(value) -> str:
    """A local calendar day (already in the customer's zone), in words."""
    from babel.dates import format_date

    return format_date(value, format="long", locale="en") if value else "—"
