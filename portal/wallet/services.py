"""Verbs on a tenant's wallet. None of these functions commit.

A customer's top-up is an operation: Lago records the purchased credits as pending and issues
a credit invoice; the credits count once that invoice is paid. Admins grant free credits,
which count at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from portal import audit
from portal.billing import mirror
from portal.billing.connection import lago_client
from portal.extensions import db
from portal.lago import LagoClient, Wallet
from portal.lago.types import WalletTransaction
from portal.models import BillingAccount, Operation, Plan, SubscriptionMirror, Tenant
from portal.operations import services as operations
from portal.wallet import low_credits

TOP_UP = "wallet_top_up"
WALLET_NAME = "Prepaid credits"
TRANSACTIONS_SHOWN = 50


@dataclass(frozen=True)
class WalletView:
    """The wallet as Lago has it now, with its latest transactions."""

    wallet: Wallet
    transactions: tuple[WalletTransaction, ...]


def account_of(tenant: Tenant) -> BillingAccount | None:
    """The mirrored billing account (its wallet balance), if any."""
    return db.session.scalar(sa.select(BillingAccount).filter_by(tenant_id=tenant.id))


def find_wallet(client: LagoClient, tenant: Tenant) -> Wallet | None:
    """The tenant's active wallet in Lago, the mirrored one first."""
    wallets = [w for w in client.list_wallets(tenant.customer_external_id) if w.status == "active"]
    account = account_of(tenant)
    known = account.wallet_lago_id if account else None
    wallets.sort(key=lambda w: (w.lago_id != known, w.created_at is None, w.created_at))
    return wallets[0] if wallets else None


def ensure_wallet(client: LagoClient, tenant: Tenant, currency: str) -> Wallet:
    """The tenant's wallet, opened (one credit per unit of `currency`) when there is none."""
    wallet = find_wallet(client, tenant)
    if wallet is None:
        wallet = client.create_wallet(
            tenant.customer_external_id, currency=currency, name=WALLET_NAME
        )
        low_credits.hand_over(tenant, client, wallet)
    mirror.update_wallet(tenant, wallet)
    return wallet


def currency_of(tenant: Tenant) -> str:
    """The currency credits are bought in: the wallet's, else the subscribed plan's (Lago bills
    a customer in one currency), else the tenant's, else USD."""
    account = account_of(tenant)
    if account is not None and account.wallet_currency:
        return account.wallet_currency
    plan_currency = db.session.scalar(
        sa.select(Plan.currency)
        .join(SubscriptionMirror, SubscriptionMirror.plan_code == Plan.code)
        .where(SubscriptionMirror.tenant_id == tenant.id)
        .order_by(SubscriptionMirror.status != "active", SubscriptionMirror.id.desc())
        .limit(1)
    )
    return plan_currency or tenant.currency or "USD"


def read_wallet(tenant: Tenant) -> WalletView | None:
    """The wallet and its latest transactions from Lago, or None when there is no wallet."""
    client = lago_client()
    wallet = find_wallet(client, tenant)
    if wallet is None:
        return None
    mirror.update_wallet(tenant, wallet)
    page = client.list_wallet_transactions(wallet.lago_id, per_page=TRANSACTIONS_SHOWN)
    ordered = sorted(
        page.items, key=lambda t: (t.created_at is not None, t.created_at), reverse=True
    )
    return WalletView(wallet=wallet, transactions=tuple(ordered))


def plan_top_up(tenant: Tenant, user_id: int | None, key: str, credits: Decimal) -> Operation:
    """Record a customer's purchase of `credits`."""
    amount = format(credits.quantize(Decimal("0.01")), "f")
    return operations.record(
        tenant_id=tenant.id,
        user_id=user_id,
        kind=TOP_UP,
        key=key,
        params={"credits": amount},
        expected={},
    )


def send_top_up(tenant: Tenant, operation: Operation) -> None:
    """Buy the credits in Lago; they stay pending until the credit invoice is paid."""
    credits = Decimal(operation.params["credits"])
    client = lago_client()
    wallet = ensure_wallet(client, tenant, currency_of(tenant))
    [purchase, *_] = client.top_up_wallet(wallet.lago_id, paid_credits=credits, name="Top-up")
    audit.record(
        "wallet.top_up",
        tenant_id=tenant.id,
        target=tenant,
        after={"credits": str(credits), "transaction": purchase.lago_id},
    )
    operation.expected = {"transaction": purchase.lago_id, "invoice": purchase.lago_invoice_id}
    operations.mark_confirmed(
        operation,
        f"{credits} credits are ordered. They count once their invoice is paid.",
    )


def grant_credits(tenant: Tenant, credits: Decimal, reason: str) -> WalletTransaction:
    """An admin gives free credits; they count at once (audited)."""
    client = lago_client()
    wallet = ensure_wallet(client, tenant, currency_of(tenant))
    transactions = client.top_up_wallet(
        wallet.lago_id, granted_credits=credits, name=reason or "Granted credits"
    )
    granted = next(t for t in transactions if t.transaction_status == "granted")
    audit.record(
        "wallet.grant",
        tenant_id=tenant.id,
        target=tenant,
        after={"credits": str(credits), "reason": reason, "transaction": granted.lago_id},
    )
    mirror.update_wallet(tenant, client.get_wallet(wallet.lago_id))
    return granted
