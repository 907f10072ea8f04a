"""Usage alerts handed to Lago's subscription alerts API, where the instance has it.

A customer's alert becomes one Lago alert per active subscription (code `pier_alert_<id>`, a
threshold at 50, 80 and 100 % of the target, coded by the level), and Lago's `alert.triggered`
webhook announces the levels. A Lago without the API (403, 404 or 405 on it) is remembered on
the connection, and Pier's own job evaluates the alerts instead. The alert is Pier's record
either way: when Lago cannot take it now (down, slow, or it refuses this one), Pier's job
evaluates it on the subscriptions Lago does not hold it for.

Lago only evaluates alerts with a premium licence: a free Lago stores them and never looks at
them again (its `last_processed_at` stays null, where a licensed one fills it within a minute
of the creation). Pier's job checks one alert once it is `EVALUATION_GRACE` old; a Lago that has
not evaluated it is remembered as not evaluating alerts, its copies are deleted, and Pier's job
takes them all over. A Lago seen evaluating is not asked again for a day.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.billing.connection import NotConnected, get_connection, lago_client
from portal.extensions import db
from portal.lago import (
    LagoError,
    LagoForbidden,
    LagoNotAllowed,
    LagoNotFound,
    LagoValidationError,
)
from portal.models import Tenant, UsageAlert, utcnow
from portal.usage.alerts import LEVELS, describe
from portal.usage.cache import remembered
from portal.usage.current import active_subscriptions

log = logging.getLogger(__name__)

CODE_PREFIX = "pier_alert_"
EVALUATION_GRACE = timedelta(minutes=10)
EVALUATING_SECONDS = 86400
AMOUNT = "current_usage_amount"
UNITS = "billable_metric_current_usage_units"


def thresholds(alert: UsageAlert) -> list[dict]:
    """Lago thresholds at each level: units, or cents for the usage amount."""
    target = Decimal(alert.target) * (100 if alert.metric_code is None else 1)
    return [
        {"code": str(level), "value": format((target * level / 100).normalize(), "f")}
        for level in LEVELS
    ]


def lago_body(alert: UsageAlert) -> dict:
    """The alert as Lago's create call takes it."""
    body = {
        "alert_type": AMOUNT if alert.metric_code is None else UNITS,
        "code": alert.lago_code,
        "name": describe(alert)[:255],
        "thresholds": thresholds(alert),
    }
    if alert.metric_code is not None:
        body["billable_metric_code"] = alert.metric_code
    return body


def api_missing(error: LagoError) -> bool:
    """Whether an answer says this Lago has no alerts API (an unknown subscription is not)."""
    if isinstance(error, LagoNotFound):
        return error.code != "subscription_not_found"
    return isinstance(error, LagoForbidden | LagoNotAllowed)


def lago_evaluates() -> bool:
    """False once this Lago answered that it has no alerts API."""
    connection = get_connection()
    return connection is not None and connection.lago_alerts is not False


def _remember(available: bool) -> None:
    connection = get_connection()
    if connection is not None and connection.lago_alerts is not available:
        connection.lago_alerts = available


def hand_to_lago(tenant: Tenant, alert: UsageAlert) -> list[str]:
    """Create the alert in Lago on each active subscription that does not hold it yet; returns
    the subscriptions that hold it now. The caller commits."""
    held = list(alert.lago_subscriptions or [])
    if not lago_evaluates():
        return held
    try:
        client = lago_client()
    except NotConnected:
        return held
    for subscription in active_subscriptions(tenant):
        if subscription.external_id in held:
            continue
        try:
            client.create_subscription_alert(subscription.external_id, lago_body(alert))
        except LagoValidationError as error:
            if "value_already_exist" not in error.field_errors.get("code", []):
                log.info("Lago refused alert %s: %s; Pier evaluates it", alert.id, error)
                continue  # e.g. one alert per metric in Lago: this one stays with Pier
        except LagoError as error:
            if api_missing(error):
                _remember(False)
                break
            log.warning("alert %s not handed to Lago: %s", alert.id, error)
            continue
        _remember(True)
        held.append(subscription.external_id)
    alert.lago_subscriptions = held or None
    return held


def lago_is_evaluating(alert: UsageAlert, now: datetime | None = None) -> bool | None:
    """Whether Lago has evaluated this alert it holds: None while it is too young to tell (or
    Lago cannot be asked), else True or False."""
    now = now or utcnow()
    if not alert.lago_subscriptions or now - alert.created_at < EVALUATION_GRACE:
        return None
    if remembered(("lago-evaluates-alerts",), EVALUATING_SECONDS, lambda: False):
        return True
    try:
        held = lago_client().get_subscription_alert(alert.lago_subscriptions[0], alert.lago_code)
    except LagoNotFound:
        return None  # the subscription or its copy is gone: handed over again later
    except (LagoError, NotConnected):
        return None
    if held.last_processed_at is None:
        return False
    remembered(("lago-evaluates-alerts",), EVALUATING_SECONDS, lambda: True, fresh=True)
    return True


def keep_with_lago(tenant: Tenant, alerts: list[UsageAlert]) -> None:
    """Hand each alert to Lago where it can take it, and take them all back from a Lago that
    does not evaluate them. The caller commits."""
    for alert in alerts:
        if lago_evaluates() and lago_is_evaluating(alert) is False:
            log.warning("Lago stores usage alerts but does not evaluate them (no licence?)")
            _remember(False)
        if lago_evaluates():
            hand_to_lago(tenant, alert)
        elif alert.lago_subscriptions:
            take_back(alert)
            alert.lago_subscriptions = None


def take_back(alert: UsageAlert) -> None:
    """Delete the alert's Lago copies (one already gone is fine). When Lago cannot be reached
    the copies stay, and their webhooks find no alert: nothing is announced."""
    if not alert.lago_subscriptions:
        return
    try:
        client = lago_client()
    except NotConnected:
        return
    for external_id in alert.lago_subscriptions:
        try:
            client.delete_subscription_alert(external_id, alert.lago_code)
        except LagoNotFound:
            continue
        except LagoError as error:
            log.warning("Lago copy of alert %s on %s not deleted: %s", alert.id, external_id, error)


def by_code(tenant: Tenant, code: str) -> UsageAlert | None:
    """The tenant's alert behind a Lago alert code."""
    if not code.startswith(CODE_PREFIX) or not code[len(CODE_PREFIX) :].isdigit():
        return None
    return db.session.scalar(
        sa.select(UsageAlert).filter_by(id=int(code[len(CODE_PREFIX) :]), tenant_id=tenant.id)
    )
