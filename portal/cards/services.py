"""Cards as Stripe has them: mirrored per tenant, added through SetupIntents, made default in
Stripe and Lago, removed under the rules. None of these functions commit."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from portal import payments
from portal.billing import mirror, stripe_link
from portal.billing.connection import NotConnected, lago_client
from portal.billing.summary import current_subscription
from portal.extensions import db
from portal.lago import LagoError
from portal.models import Card, CardSetup, Operation, Plan, Tenant, utcnow
from portal.operations import services as operations
from portal.payments import CardInfo, SetupIntentInfo, errors

#: SetupIntent states in which a card is still being set up (the customer or the bank acts).
IN_PROGRESS = ("requires_action", "requires_confirmation", "processing")
#: How long an opened card setup is looked after on the cards page.
RECENT = timedelta(days=1)


class Refused(Exception):
    """The action breaks a rule; the message says why and what to do."""


# -- the mirror --------------------------------------------------------------------------------


def listed(tenant: Tenant) -> list[Card]:
    """The tenant's cards: the default first, then the newest."""
    return list(
        db.session.scalars(
            sa.select(Card)
            .where(Card.tenant_id == tenant.id, Card.removed_at.is_(None))
            .order_by(Card.is_default.desc(), Card.stripe_created_at.desc(), Card.id.desc())
        )
    )


def card_of(tenant: Tenant, card_id: int) -> Card | None:
    """One of the tenant's cards (another tenant's id is not found)."""
    return db.session.scalar(
        sa.select(Card).where(
            Card.id == card_id, Card.tenant_id == tenant.id, Card.removed_at.is_(None)
        )
    )


def default_card(tenant: Tenant) -> Card | None:
    """The card the next invoice is charged to."""
    return next((card for card in listed(tenant) if card.is_default), None)


def label(card: Card | CardInfo) -> str:
    """The card in words: Visa ending 4242."""
    brand = {"amex": "American Express", "mastercard": "Mastercard"}.get(card.brand)
    return f"{brand or card.brand.title()} ending {card.last4}"


def expiry_state(card: Card, today: date) -> str | None:
    """Whether the card has expired or expires this month or next (None: neither)."""
    if not card.exp_month or not card.exp_year:
        return None
    months_left = (card.exp_year - today.year) * 12 + (card.exp_month - today.month)
    if months_left < 0:
        return "expired"
    if months_left <= 1:
        return "expires soon"
    return None


def upsert(
    tenant: Tenant, info: CardInfo, *, is_default: bool | None, source_at: datetime
) -> Card | None:
    """Write what Stripe said about a card unless the mirror already holds something newer
    (`is_default` None: keep what the mirror says)."""
    now = utcnow()
    db.session.execute(
        mirror.dialect_insert(Card)
        .values(
            tenant_id=tenant.id,
            stripe_id=info.id,
            brand=info.brand,
            last4=info.last4,
            is_default=False,
            source_at=source_at,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["stripe_id"])
    )
    card = db.session.scalar(
        sa.select(Card).where(Card.stripe_id == info.id).execution_options(populate_existing=True)
    )
    if card.tenant_id != tenant.id or card.source_at > source_at:
        return None
    card.brand, card.last4 = info.brand, info.last4
    card.exp_month, card.exp_year = info.exp_month, info.exp_year
    card.funding, card.country, card.wallet = info.funding, info.country, info.wallet
    card.stripe_created_at = info.created
    if is_default is not None:
        card.is_default = is_default
    card.source_at = source_at
    if info.customer is None:
        card.removed_at = card.removed_at or source_at
        card.is_default = False
    else:
        card.removed_at = None
    return card


def mark_default(tenant: Tenant, payment_method_id: str | None, source_at: datetime) -> None:
    """Stripe's default card, as a webhook's copy of the customer says (if not older)."""
    for card in db.session.scalars(sa.select(Card).where(Card.tenant_id == tenant.id)):
        if card.source_at <= source_at:
            card.is_default = card.stripe_id == payment_method_id and card.removed_at is None
            card.source_at = source_at


def refresh(tenant: Tenant, *, source_at: datetime | None = None) -> list[Card]:
    """Read the tenant's cards and default from Stripe and make the mirror say the same."""
    account = mirror.billing_account(tenant)
    if not account.provider_customer_id or account.payment_provider not in (None, "stripe"):
        return []
    source_at = source_at or utcnow()
    client = payments.payments()
    customer = client.get_customer(account.provider_customer_id)
    found = [] if customer.deleted else client.list_cards(account.provider_customer_id)
    seen = set()
    for info in found:
        upsert(
            tenant, info, is_default=info.id == customer.default_payment_method, source_at=source_at
        )
        seen.add(info.id)
    for card in db.session.scalars(
        sa.select(Card).where(Card.tenant_id == tenant.id, Card.removed_at.is_(None))
    ):
        if card.stripe_id not in seen and card.source_at <= source_at:
            card.removed_at, card.is_default, card.source_at = source_at, False, source_at
    return listed(tenant)


# -- adding a card -----------------------------------------------------------------------------


def open_setup(tenant: Tenant, key: str) -> SetupIntentInfo:
    """A SetupIntent for a new card (off-session use), created once per form key."""
    customer_id = stripe_link.ensure_customer(tenant)
    intent = payments.payments().create_setup_intent(
        customer_id,
        metadata={"pier_tenant_id": str(tenant.id)},
        idempotency_key=f"pier-setup-{tenant.external_id}-{key}",
    )
    db.session.execute(
        mirror.dialect_insert(CardSetup)
        .values(
            tenant_id=tenant.id,
            setup_intent_id=intent.id,
            status=intent.status,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["setup_intent_id"])
    )
    return intent


def setup_of(tenant: Tenant, setup_intent_id: str) -> CardSetup | None:
    """A card setup of this tenant (another tenant's is not found)."""
    return db.session.scalar(
        sa.select(CardSetup).where(
            CardSetup.setup_intent_id == setup_intent_id, CardSetup.tenant_id == tenant.id
        )
    )


@dataclass(frozen=True)
class SetupOutcome:
    """What happened to a card setup, in the customer's words."""

    kind: str  # saved | authentication_failed | declined | processing | requires_action | ...
    message: str
    card: Card | None = None
    continue_url: str | None = None
    setup: CardSetup | None = None


def settle_setup(tenant: Tenant, setup: CardSetup) -> SetupOutcome:
    """Read the SetupIntent from Stripe (the truth), keep its state, and say what happened."""
    intent = payments.payments().get_setup_intent(setup.setup_intent_id)
    account = mirror.billing_account(tenant)
    if intent.customer != account.provider_customer_id:
        raise errors.NotFound("the SetupIntent belongs to another customer")
    setup.status = intent.status
    setup.error_code = intent.decline_code or intent.error_code
    setup.payment_method_id = intent.payment_method
    card = None
    if intent.status == "succeeded":
        setup.finished_at = setup.finished_at or utcnow()
        card = _adopt_new_card(tenant, intent)
    elif intent.status == "canceled":
        setup.finished_at = setup.finished_at or utcnow()
    return _outcome(intent, setup, card)


def _adopt_new_card(tenant: Tenant, intent: SetupIntentInfo) -> Card | None:
    """A saved card becomes the default, as Lago does on `setup_intent.succeeded`."""
    customer_id = mirror.billing_account(tenant).provider_customer_id
    client = payments.payments()
    customer = client.get_customer(customer_id)
    if intent.payment_method and customer.default_payment_method != intent.payment_method:
        client.set_default_card(customer_id, intent.payment_method)
    refresh(tenant)
    return db.session.scalar(sa.select(Card).where(Card.stripe_id == intent.payment_method))


def _outcome(intent: SetupIntentInfo, setup: CardSetup, card: Card | None) -> SetupOutcome:
    if intent.status == "succeeded":
        what = label(card) if card is not None else "Your card"
        return SetupOutcome(
            "saved", f"{what} is saved. Your next invoice will be charged to it.", card, setup=setup
        )
    if intent.status == "processing":
        return SetupOutcome(
            "processing",
            "Your bank is still confirming this card. This page shows the result when it is known.",
            setup=setup,
        )
    if intent.status in ("requires_action", "requires_confirmation"):
        return SetupOutcome(
            "requires_action",
            "Your bank is waiting for you to confirm this card. Continue the authentication, "
            "or cancel and try again.",
            continue_url=intent.next_action_url,
            setup=setup,
        )
    if intent.status == "canceled":
        return SetupOutcome(
            "canceled", "This card setup was cancelled; no card was saved.", setup=setup
        )
    if intent.error_code or intent.decline_code:
        error = errors.for_code(intent.error_code, intent.decline_code)
        kind = (
            "authentication_failed"
            if isinstance(error, errors.AuthenticationFailed)
            else "declined"
        )
        return SetupOutcome(kind, error.sentence, setup=setup)
    return SetupOutcome("not_started", "No card was entered, so nothing was saved.", setup=setup)


def setups_in_progress(tenant: Tenant) -> list[CardSetup]:
    """Setups of the last day that may still be going on (the browser confirms them at Stripe
    directly, so one opened without news may be waiting for the bank): the newest few."""
    return list(
        db.session.scalars(
            sa.select(CardSetup)
            .where(
                CardSetup.tenant_id == tenant.id,
                CardSetup.status.in_((*IN_PROGRESS, "requires_payment_method")),
                CardSetup.finished_at.is_(None),
                CardSetup.created_at >= utcnow() - RECENT,
            )
            .order_by(CardSetup.id.desc())
            .limit(5)
        )
    )


def recover_setups(tenant: Tenant) -> list[SetupOutcome]:
    """Ask Stripe where every unfinished setup stands (a reload or a closed tab mid-3-D Secure
    ends here); those still waiting are returned with how to continue."""
    waiting = []
    for setup in setups_in_progress(tenant):
        outcome = settle_setup(tenant, setup)
        if outcome.kind in ("requires_action", "processing"):
            waiting.append(outcome)
    return waiting


def cancel_setup(tenant: Tenant, setup: CardSetup) -> None:
    """Give up on a card setup (its SetupIntent is cancelled at Stripe)."""
    with contextlib.suppress(errors.InvalidRequest):  # already finished at Stripe
        payments.payments().cancel_setup_intent(setup.setup_intent_id)
    setup.status = "canceled"
    setup.finished_at = utcnow()


# -- default and removal (operations) ----------------------------------------------------------

DEFAULT = "card_default"
REMOVE = "card_remove"


def plan_default(tenant: Tenant, user_id: int, key: str, card: Card) -> Operation:
    if card.is_default:
        raise Refused(f"{label(card)} is already the card your invoices are charged to.")
    return operations.record(
        tenant_id=tenant.id,
        user_id=user_id,
        kind=DEFAULT,
        key=key,
        params={"card": card.stripe_id},
        expected={"done": f"Your invoices are now charged to {label(card)}."},
    )


def send_default(tenant: Tenant, operation: Operation) -> None:
    """Stripe's `invoice_settings.default_payment_method`, then Lago's default payment method."""
    make_default(tenant, operation.params["card"])


def make_default(tenant: Tenant, payment_method_id: str) -> None:
    customer_id = mirror.billing_account(tenant).provider_customer_id
    payments.payments().set_default_card(customer_id, payment_method_id)
    now = utcnow()
    for card in db.session.scalars(sa.select(Card).where(Card.tenant_id == tenant.id)):
        card.is_default = card.stripe_id == payment_method_id
        card.source_at = max(card.source_at, now)
    set_lago_default(tenant, payment_method_id)


def set_lago_default(tenant: Tenant, payment_method_id: str) -> bool:
    """Lago's `set_as_default` on its payment method for this card, when Lago has it already
    (otherwise Lago takes it from Stripe's `customer.updated`)."""
    try:
        client = lago_client()
        for method in client.list_payment_methods(tenant.customer_external_id):
            if method.provider_method_id == payment_method_id:
                if not method.is_default:
                    client.set_default_payment_method(tenant.customer_external_id, method.lago_id)
                return True
    except (NotConnected, LagoError):
        return False  # Stripe holds the default; Lago learns it from Stripe's webhook
    return False


@operations.confirms(DEFAULT)
def _default_confirmed(operation: Operation) -> bool:
    card = db.session.scalar(sa.select(Card).where(Card.stripe_id == operation.params["card"]))
    return card is not None and card.is_default


def removal_refusal(tenant: Tenant, card: Card) -> str | None:
    """Why this card may not be removed now (None: it may)."""
    others = [c for c in listed(tenant) if c.id != card.id]
    if card.is_default and others:
        return (
            f"{label(card)} is the card your invoices are charged to. Choose another card as "
            "the default first, then remove this one."
        )
    if not others and paid_subscription(tenant):
        return (
            f"{label(card)} is your only card and your subscription is paid. Add another card "
            "first, then remove this one."
        )
    return None


def paid_subscription(tenant: Tenant) -> bool:
    """True while an active subscription costs money."""
    subscription = current_subscription(tenant.id)
    if subscription is None or subscription.status != "active":
        return False
    plan = db.session.scalar(sa.select(Plan).where(Plan.code == subscription.plan_code))
    return plan is None or plan.amount_cents > 0


def plan_removal(tenant: Tenant, user_id: int, key: str, card: Card) -> Operation:
    refusal = removal_refusal(tenant, card)
    if refusal:
        raise Refused(refusal)
    return operations.record(
        tenant_id=tenant.id,
        user_id=user_id,
        kind=REMOVE,
        key=key,
        params={"card": card.stripe_id},
        expected={"done": f"{label(card)} was removed."},
    )


def send_removal(tenant: Tenant, operation: Operation) -> None:
    """Detach the card at Stripe (Lago forgets it on `payment_method.detached`)."""
    info = payments.payments().remove_card(operation.params["card"])
    card = db.session.scalar(sa.select(Card).where(Card.stripe_id == info.id))
    if card is not None:
        card.removed_at, card.is_default, card.source_at = utcnow(), False, utcnow()


@operations.confirms(REMOVE)
def _removal_confirmed(operation: Operation) -> bool:
    card = db.session.scalar(sa.select(Card).where(Card.stripe_id == operation.params["card"]))
    return card is not None and card.removed_at is not None
