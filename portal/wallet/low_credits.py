"""The tenant's "tell me when credits fall below X": a Lago wallet alert, else Pier's own check.

The level lives on the billing account. When the tenant's Lago wallet has a code and Lago has
the wallet alerts API, Pier creates one `wallet_credits_ongoing_balance` alert on it (code
`LAGO_CODE`, one threshold at the level) and Lago's `alert.triggered` announces the fall. A Lago
that answers 403, 404 or 405 on these routes (or a wallet without a code) leaves the check to
Pier alone: each wallet webhook compares the mirrored ongoing balance in credits with the
level. Pier makes that check where Lago holds the alert too, for a Lago that stores alerts
without a licence to evaluate them; Lago's alert adds the falls from usage, which send no
wallet webhook.

Either way a fall is announced once: `low_credits_since` records the crossing, and only the
balance going back above the level (seen on the wallet webhooks, e.g. after a top-up) clears it
and resolves the notice, so the next fall is a new crossing with its own email.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from portal.billing import mirror
from portal.billing.connection import NotConnected, lago_client
from portal.lago import LagoClient, LagoError, LagoNotFound, TriggeredAlert, Wallet
from portal.models import BillingAccount, Tenant, utcnow
from portal.notify import notices
from portal.notify.after_commit import queue_email
from portal.notify.formatting import link
from portal.usage.lago_alerts import api_missing

log = logging.getLogger(__name__)

KIND = "low_credits"
LAGO_CODE = "pier_low_credits"
ALERT_TYPE = "wallet_credits_ongoing_balance"
WALLET_TYPES = (
    "wallet_balance_amount",
    "wallet_credits_balance",
    "wallet_ongoing_balance_amount",
    "wallet_credits_ongoing_balance",
)


def notice_key(tenant_id: int) -> str:
    """The open notice while the tenant's credits are below their level."""
    return f"{KIND}:{tenant_id}"


def email_key(tenant_id: int, since: datetime) -> str:
    """One email per crossing."""
    return f"{KIND}:{tenant_id}:{since.isoformat()}"


def level_of(account: BillingAccount | None) -> Decimal | None:
    """The level in credits, or None when the tenant asked for no warning."""
    return Decimal(account.low_credits) if account and account.low_credits else None


def _balance(account: BillingAccount) -> Decimal | None:
    if account.wallet_lago_id is None or account.wallet_credits is None:
        return None
    return Decimal(account.wallet_credits)


def set_level(tenant: Tenant, level: Decimal | None) -> BillingAccount:
    """Save the level (None: off) and hand it to Lago where Lago can watch it. A balance
    already below the new level counts as crossed: the warning comes with the next fall.
    The caller commits."""
    account = mirror.billing_account(tenant)
    _take_back(tenant, account)
    account.low_credits = format(level.normalize(), "f") if level is not None else None
    account.low_credits_since = None
    notices.resolve(notice_key(tenant.id))
    if level is None:
        return account
    balance = _balance(account)
    if balance is not None and balance <= level:
        account.low_credits_since = utcnow()
    _hand_to_lago(tenant, account, level)
    return account


def _hand_to_lago(tenant: Tenant, account: BillingAccount, level: Decimal) -> None:
    from portal.wallet.services import find_wallet  # services hands new wallets to this module

    try:
        client = lago_client()
        wallet = find_wallet(client, tenant)
    except NotConnected:
        return
    except LagoError as error:
        log.warning("low-credits alert of tenant %s not handed to Lago: %s", tenant.id, error)
        return
    if wallet is not None:
        hand_over(tenant, client, wallet)


def hand_over(tenant: Tenant, client: LagoClient, wallet: Wallet) -> None:
    """Create the tenant's level as an alert on this Lago wallet, unless Lago holds it already
    or cannot (no wallet code, no wallet alerts API: Pier watches). The caller commits."""
    account = mirror.billing_account(tenant)
    level = level_of(account)
    if level is None or account.low_credits_lago_wallet is not None or not wallet.code:
        return
    body = {
        "alert_type": ALERT_TYPE,
        "code": LAGO_CODE,
        "name": "Credits running low (Pier)",
        "thresholds": [{"code": KIND, "value": format(level.normalize(), "f")}],
    }
    try:
        client.create_wallet_alert(tenant.customer_external_id, wallet.code, body)
    except LagoError as error:
        if not api_missing(error):
            log.warning("low-credits alert of tenant %s not handed to Lago: %s", tenant.id, error)
        return
    account.low_credits_lago_wallet = wallet.code


def _take_back(tenant: Tenant, account: BillingAccount) -> None:
    """Delete the Lago copy (one already gone is fine; an unreachable Lago keeps it, and its
    webhook then finds a different or no level and is ignored)."""
    wallet_code = account.low_credits_lago_wallet
    account.low_credits_lago_wallet = None
    if wallet_code is None:
        return
    try:
        lago_client().delete_wallet_alert(tenant.customer_external_id, wallet_code, LAGO_CODE)
    except (LagoNotFound, NotConnected):
        return
    except LagoError as error:
        log.warning("Lago copy of tenant %s's low-credits alert not deleted: %s", tenant.id, error)


def _announce(tenant: Tenant, account: BillingAccount, level: Decimal) -> bool:
    """Open the notice and queue the email of a new crossing; False when already announced."""
    if account.low_credits_since is not None:
        return False
    account.low_credits_since = utcnow()
    notices.raise_notice(
        notice_key(tenant.id),
        tenant_id=tenant.id,
        kind=KIND,
        level="warning",
        title="Your credits are running low",
        body=(
            f"Your prepaid credits fell below {format(level, 'f')}, the level you chose. "
            f"To add credits, top up here: {link('wallet.index')}"
        ),
    )
    queue_email(KIND, tenant.id, account.low_credits_since.isoformat())
    return True


def on_balance(tenant: Tenant, account: BillingAccount) -> None:
    """A wallet webhook updated the mirrored balance: a balance above the level ends the
    crossing; one at or below it is announced (unless it was already). Where Lago holds the
    alert this is the backstop for a Lago that stores wallet alerts without evaluating them
    (no licence); Lago's alert is what catches falls from usage, which send no wallet
    webhook."""
    level = level_of(account)
    balance = _balance(account)
    if level is None or balance is None:
        return
    if balance > level:
        if account.low_credits_since is not None:
            account.low_credits_since = None
            notices.resolve(notice_key(tenant.id))
    else:
        _announce(tenant, account, level)


def on_triggered(tenant: Tenant, sent: TriggeredAlert) -> bool:
    """Lago's wallet alert fired: announce the crossing unless it was announced already."""
    account = mirror.billing_account(tenant)
    level = level_of(account)
    if sent.alert_code != LAGO_CODE or level is None or account.low_credits_lago_wallet is None:
        return False
    return _announce(tenant, account, level)
