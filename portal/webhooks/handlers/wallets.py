"""Lago wallet webhooks: the prepaid-credit balance on the tenant's billing account."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from portal.billing import mirror
from portal.extensions import db
from portal.lago import Wallet
from portal.models import BillingAccount, EventSource, Tenant, WebhookEvent
from portal.notify import notices
from portal.notify.formatting import link, local_day
from portal.wallet import low_credits
from portal.webhooks.handlers import refetch, tenants
from portal.webhooks.registry import handles

DEPLETED = "wallet_depleted"


def depleted_key(wallet_lago_id: str) -> str:
    """The notice of a wallet whose credits ran out."""
    return f"{DEPLETED}:{wallet_lago_id}"


def _record(
    event: WebhookEvent, tenant: Tenant, fresh: Wallet | None, sent: Wallet | None, *, fact: bool
) -> BillingAccount:
    """Write Lago's copy; the webhook's copy only when nothing newer can be in the mirror.

    Wallets carry no update time, so a webhook's copy is used when the account has no balance
    for this wallet yet, or when it states the fact the webhook is about (`fact`).
    """
    account = mirror.billing_account(tenant)
    if fresh is not None:
        return mirror.update_wallet(tenant, fresh)
    if sent is None:
        return account
    if fact or account.wallet_lago_id != sent.lago_id:
        return mirror.update_wallet(tenant, sent)
    refetch.note(event, "Kept the mirrored wallet balance: the webhook's copy may be older.")
    return account


def _sync_notice(tenant: Tenant, account: BillingAccount, wallet_lago_id: str) -> None:
    low_credits.on_balance(tenant, account)
    if account.wallet_lago_id == wallet_lago_id and account.wallet_depleted_at is not None:
        notices.raise_notice(
            depleted_key(wallet_lago_id),
            tenant_id=tenant.id,
            kind=DEPLETED,
            level="warning",
            title="Your prepaid credits are used up",
            body=(
                f"The wallet ran out on {local_day(account.wallet_depleted_at, tenant.timezone)}."
                " Usage from now on is invoiced as usual. To add credits, top up here: "
                f"{link('wallet.index')}"
            ),
        )
    else:
        notices.resolve(depleted_key(wallet_lago_id))


def _wallet_sent(event: WebhookEvent, payload: dict[str, Any], *, fact: bool) -> None:
    sent = Wallet.from_api(payload["wallet"])
    tenant = tenants.by_external_id(event, sent.external_customer_id)
    if tenant is None:
        return
    fresh, _ = refetch.from_lago(event, "wallet", lambda lago: lago.get_wallet(sent.lago_id))
    account = _record(event, tenant, fresh, sent, fact=fact)
    _sync_notice(tenant, account, sent.lago_id)


@handles(EventSource.lago, "wallet.depleted_ongoing_balance")
def wallet_depleted(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """The wallet's ongoing balance reached zero: record it and tell the tenant."""
    _wallet_sent(event, payload, fact=True)


@handles(EventSource.lago, "wallet.updated")
def wallet_updated(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """The wallet's balance moved (Lago sends this after each increase or decrease)."""
    _wallet_sent(event, payload, fact=False)


@handles(EventSource.lago, "wallet_transaction.created", "wallet_transaction.updated")
def wallet_transaction_changed(event: WebhookEvent, payload: dict[str, Any]) -> None:
    """Credits were added, used or voided: re-read the wallet's balance."""
    transaction = payload["wallet_transaction"]
    wallet_id = transaction["lago_wallet_id"]
    embedded = transaction.get("wallet")
    sent = Wallet.from_api(embedded) if isinstance(embedded, dict) else None
    fresh, _ = refetch.from_lago(event, "wallet", lambda lago: lago.get_wallet(wallet_id))
    known = fresh or sent
    if known is not None:
        tenant = tenants.by_external_id(event, known.external_customer_id)
    else:
        tenant = db.session.scalar(
            sa.select(Tenant)
            .join(BillingAccount, BillingAccount.tenant_id == Tenant.id)
            .where(BillingAccount.wallet_lago_id == wallet_id)
        )
        if tenant is None:
            refetch.note(event, f"No tenant holds the wallet {wallet_id}; nothing to update.")
    if tenant is None:
        return
    account = _record(event, tenant, fresh, sent, fact=False)
    _sync_notice(tenant, account, wallet_id)
