"""Take over Lago customers an older integration created, keyed by a user id, for Pier's tenants.

A customer matches a tenant when its external id is the user id the tenant records
(`created_by_user_id` in its metadata, or another key) or, failing that, when its email is the
tenant's billing email. Lago's API cannot change a customer's external id (`POST /customers`
upserts by it; only Lago's UI can, and only while the customer has no subscription, invoice,
wallet, add-on or coupon: lago-api's `Customer#editable?`), and a subscription cannot move to
another customer without ending it. So Pier does what Lago allows:

* `rekey`: a customer with no billing history is re-created under the tenant's external id
  (Pier's customer sync writes it) and the old one is deleted;
* `map`: a customer with billing history keeps its id, and the tenant records it
  (`Tenant.legacy_external_id`): Pier addresses that customer, and webhooks about it find the
  tenant. An empty customer Pier had already created for the tenant is deleted.

A tenant matched by several customers, a customer matching several tenants, or a tenant whose
own customer already has history (Lago cannot merge two customers' histories) is left alone.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

import sqlalchemy as sa

from portal import audit
from portal.billing import customers
from portal.extensions import db
from portal.lago import LagoClient, LagoError, LagoNotFound
from portal.lago.types import AppliedCoupon, Customer, Invoice, Subscription, Wallet
from portal.models import Tenant

HISTORY_STATUSES = ["active", "pending", "terminated", "canceled"]


@dataclass(frozen=True)
class Match:
    """What the import does with one Lago customer, and why."""

    customer: Customer
    action: str  # rekey | map | keyed | unmatched | ambiguous | conflict
    tenant: Tenant | None = None
    how: str = ""  # "user id" | "billing email"
    reason: str = ""

    def describe(self) -> str:
        old = self.customer.external_id
        if self.tenant is None:
            return f"{self.action:<10} {old}: {self.reason}"
        target = f"{self.tenant.name} ({self.tenant.external_id}, by {self.how})"
        return f"{self.action:<10} {old} → {target}: {self.reason}"


def _count(client: LagoClient, path: str, key: str, parse, params: dict) -> int:
    """How many a list holds, from one page of one (Lago's `meta.total_count`)."""
    page = client.fetch_page(path, key, parse, per_page=1, params=params)
    return page.meta.total_count or len(page.items)


def history(client: LagoClient, external_id: str) -> list[str]:
    """What ties a Lago customer to its id: subscriptions, invoices, wallets, applied coupons
    (empty: nothing). Re-keying deletes the old customer, so whatever hangs on it counts."""
    customer = {"external_customer_id": external_id}
    counts = (
        (
            _count(
                client,
                "/subscriptions",
                "subscriptions",
                Subscription.from_api,
                customer | {"status[]": HISTORY_STATUSES},
            ),
            "subscription",
        ),
        (_count(client, "/invoices", "invoices", Invoice.from_api, customer), "invoice"),
        (_count(client, "/wallets", "wallets", Wallet.from_api, customer), "wallet"),
        (
            _count(client, "/applied_coupons", "applied_coupons", AppliedCoupon.from_api, customer),
            "applied coupon",
        ),
    )
    return [f"{count} {word}{'s' if count > 1 else ''}" for count, word in counts if count]


def _index(tenants: list[Tenant], user_id_key: str) -> tuple[dict, dict]:
    by_user: dict[str, list[Tenant]] = {}
    by_email: dict[str, list[Tenant]] = {}
    for tenant in tenants:
        user_id = (tenant.custom_metadata or {}).get(user_id_key)
        if user_id not in (None, ""):
            by_user.setdefault(str(user_id), []).append(tenant)
        if tenant.billing_email:
            by_email.setdefault(tenant.billing_email.lower(), []).append(tenant)
    return by_user, by_email


def plan_import(client: LagoClient, user_id_key: str = "created_by_user_id") -> list[Match]:
    """Decide, without changing anything, what happens to each of Lago's customers."""
    lago_customers = client.list_customers()
    existing = {c.external_id for c in lago_customers}
    tenants = list(db.session.scalars(sa.select(Tenant).order_by(Tenant.id)))
    keyed = {t.customer_external_id for t in tenants}
    by_user, by_email = _index(tenants, user_id_key)
    matches: list[Match] = []
    claimed: dict[int, int] = {}
    for customer in lago_customers:
        if customer.external_id in keyed:
            matches.append(Match(customer, "keyed", reason="already a tenant's customer"))
            continue
        how, candidates = "user id", by_user.get(customer.external_id, [])
        if not candidates and customer.email:
            how, candidates = "billing email", by_email.get(customer.email.lower(), [])
        if not candidates:
            matches.append(
                Match(customer, "unmatched", reason="no tenant has this user id or email")
            )
            continue
        if len(candidates) > 1:
            names = ", ".join(t.name for t in candidates)
            matches.append(Match(customer, "ambiguous", reason=f"matches {names}"))
            continue
        tenant = candidates[0]
        claimed[tenant.id] = claimed.get(tenant.id, 0) + 1
        matches.append(Match(customer, "pending", tenant, how))
    decided = []
    for match in matches:
        if match.action == "pending":
            match = _decide(client, match, claimed[match.tenant.id], existing)
        decided.append(match)
    return decided


def _decide(client: LagoClient, match: Match, claims: int, existing: set[str]) -> Match:
    tenant, old = match.tenant, match.customer.external_id
    if claims > 1:
        return Match(
            match.customer,
            "conflict",
            tenant,
            match.how,
            "several Lago customers match this tenant",
        )
    old_history = history(client, old)
    if not old_history:
        return Match(
            match.customer,
            "rekey",
            tenant,
            match.how,
            f"no billing history: Pier creates {tenant.external_id} and deletes {old}",
        )
    own = tenant.external_id in existing and history(client, tenant.external_id)
    if own:
        return Match(
            match.customer,
            "conflict",
            tenant,
            match.how,
            f"both {old} ({', '.join(old_history)}) and {tenant.external_id} "
            f"({', '.join(own)}) have billing history; Lago cannot merge customers",
        )
    return Match(
        match.customer,
        "map",
        tenant,
        match.how,
        f"has {', '.join(old_history)}, which Lago keeps under {old}: Pier uses {old} "
        "for this tenant",
    )


def _delete(client: LagoClient, external_id: str) -> None:
    with suppress(LagoNotFound):  # already gone
        client.delete_customer(external_id)


def apply(client: LagoClient, match: Match) -> None:
    """Carry out one rekey or map (audited; the caller commits). Raises LagoError."""
    tenant, customer = match.tenant, match.customer
    before = {"lago_customer": tenant.customer_external_id}
    if match.action == "rekey":
        tenant.legacy_external_id = None
        tenant.currency = tenant.currency or customer.currency
        customers.mark_for_sync(tenant)
        if not customers.sync_tenant(tenant):
            raise LagoError(tenant.sync_last_error or "The customer sync failed.")
        _delete(client, customer.external_id)
        action = "lago.customer_rekeyed"
    elif match.action == "map":
        tenant.legacy_external_id = customer.external_id
        tenant.currency = tenant.currency or customer.currency
        _delete(client, tenant.external_id)  # an empty customer Pier made (checked when planned)
        customers.mark_for_sync(tenant)
        if not customers.sync_tenant(tenant):
            raise LagoError(tenant.sync_last_error or "The customer sync failed.")
        action = "lago.customer_mapped"
    else:
        raise ValueError(f"nothing to apply for {match.action}")
    audit.record(
        action,
        target=tenant,
        tenant_id=tenant.id,
        before=before | {"replaced": customer.external_id},
        after={"lago_customer": tenant.customer_external_id, "matched_by": match.how},
    )
