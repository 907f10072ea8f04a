"""What the banners say, read from the mirror alone (no Lago call), and which are dismissed.

Three kinds, most pressing first: `suspended` (what is kept, how to come back), `dunning` (what
failed and the next step: a declined card, a payment waiting for the bank's confirmation, no
card at all) and `trial` (days left, choosing a plan). The billing home shows them in full;
every other customer page shows them compact, and those can be dismissed for the session.

A dismissal holds for the banner's kind *and* state (`Banner.state`): the same trial on the
same number of days left, the same failure of the same invoice. When the state moves on (a day
of the trial passes, another payment attempt fails, an invoice becomes overdue) the banner is
back. Only the latest dismissal of each kind is kept.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import url_for
from werkzeug.routing import BuildError

from portal.billing import dunning, trials
from portal.billing.summary import INTERVAL_WORDS, current_subscription, display_zone
from portal.billing.summary import trial_days_left as days_left_in_trial
from portal.extensions import db
from portal.models import (
    BillingAccount,
    DunningState,
    InvoiceMirror,
    Membership,
    Notice,
    PaymentIssue,
    Plan,
    Role,
    SubscriptionMirror,
    Tenant,
    User,
    utcnow,
)
from portal.notify.formatting import amount, local_day

KINDS = ("suspended", "dunning", "trial")
SESSION_KEY = "dismissed_banners"
MAX_STATE = 200
# Notices the banners tell already: the home page leaves them out, so no fact is told twice.
COVERED_NOTICES = (dunning.FAILED, dunning.OVERDUE, dunning.ACTION, dunning.SUSPENDED, trials.KIND)

DECLINED = "declined"
AUTHENTICATION = "authentication"
NO_CARD = "no_card"


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Banner:
    """One banner: its kind, the state a dismissal holds for, and its words."""

    kind: str
    state: str
    tone: str  # warn | info
    title: str  # the compact banner says this
    detail: str
    next_step: str
    links: tuple[Link, ...] = ()


def page_url(endpoint: str, **values) -> str | None:
    """The URL of a page, or None while this Pier has no such page."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def payment_problem(account: BillingAccount, waiting_for_bank: bool) -> str:
    """Why the money did not come in: declined, authentication needed, or no card."""
    issue = account.payment_issue
    if waiting_for_bank or issue is PaymentIssue.authentication_required:
        return AUTHENTICATION
    if issue is PaymentIssue.no_payment_method or not (
        account.payment_provider and account.provider_customer_id
    ):
        return NO_CARD
    return DECLINED


def banners_for(tenant: Tenant, role: Role, now: datetime | None = None) -> list[Banner]:
    """The tenant's banners as this role reads them, most pressing first."""
    now = now or utcnow()
    account = db.session.scalar(
        sa.select(BillingAccount).where(BillingAccount.tenant_id == tenant.id)
    )
    zone = display_zone(tenant, account)
    may_act = role.can_manage_billing
    who = "" if may_act else _who_can_act(tenant)
    found: list[Banner] = []
    if account is not None:
        waiting = _waiting_for_bank(tenant.id)
        if account.dunning_state is DunningState.suspended:
            found.append(_suspended(account, zone, may_act, who))
        elif account.dunning_state is not DunningState.ok or waiting:
            found.append(_dunning(account, waiting, zone, may_act, who))
    subscription = current_subscription(tenant.id)
    left = days_left_in_trial(subscription, now)
    if left is not None and not found:
        found.append(_trial(subscription, left, zone, may_act, who))
    return found


def visible(banners: list[Banner], dismissed: MutableMapping | None) -> list[Banner]:
    """The banners not dismissed in this session for their current state."""
    dismissed = dismissed or {}
    return [b for b in banners if dismissed.get(b.kind) != b.state]


def dismiss(session: MutableMapping, kind: str, state: str) -> None:
    """Hide the kind's banner for this session while its state stays `state`."""
    kept = dict(session.get(SESSION_KEY) or {})
    kept[kind] = state[:MAX_STATE]
    session[SESSION_KEY] = kept


# -- Each kind --------------------------------------------------------------------------------


def _trial(
    subscription: SubscriptionMirror, left: int, zone: str, may_act: bool, who: str
) -> Banner:
    plan = db.session.scalar(sa.select(Plan).where(Plan.code == subscription.plan_code))
    title = plan.title if plan is not None else subscription.plan_code
    ends = local_day(subscription.trial_ends_at, zone)
    price = ""
    if plan is not None:
        per = INTERVAL_WORDS.get(plan.interval, plan.interval)
        price = f" From then on it costs {amount(plan.amount_cents, plan.currency)} per {per}."
    links = []
    if may_act:
        step = f"Nothing to do to keep {title}; choose another plan before the trial ends."
        links = _links(("Choose a plan", "plans.index"), ("Add a card", "cards.index"))
    else:
        step = f"{who} can choose the plan."
    return Banner(
        kind="trial",
        state=f"{subscription.lago_id}:{left}",
        tone="info",
        title=f"Free trial of {title}: {left} day{'s' if left != 1 else ''} left",
        detail=f"Your trial ends on {ends}.{price}",
        next_step=step,
        links=tuple(links),
    )


def _dunning(account: BillingAccount, waiting: bool, zone: str, may_act: bool, who: str) -> Banner:
    problem = payment_problem(account, waiting)
    invoice = _invoice(account.dunning_invoice_lago_id)
    what = _invoice_words(invoice)
    overdue = account.dunning_state is DunningState.overdue
    if problem == AUTHENTICATION:
        title = f"Your bank asks you to confirm the payment of {what}"
        detail = "The payment waits for the card holder's confirmation (3-D Secure)."
    elif problem == NO_CARD:
        title = f"No card on file to pay {what}"
        detail = "There is no card to charge, so the invoice stays unpaid."
    else:
        title = f"The payment of {what} was declined"
        detail = "The bank declined the card on file."
    if overdue and invoice is not None:
        title = f"{what[0].upper()}{what[1:]} is overdue"
        due = local_day(invoice.payment_due_date, zone) if invoice.payment_due_date else None
        since = account.overdue_at or utcnow()
        suspend_on = local_day(since + timedelta(days=dunning.grace_days()), zone)
        detail += (
            (f" It was due on {due}." if due else "")
            + f" If it is still unpaid on {suspend_on}, access is suspended until it is paid;"
            " your data is kept."
        )
    step, links = _next_step(problem, account, may_act, who)
    failed_at = account.payment_failed_at.isoformat() if account.payment_failed_at else ""
    return Banner(
        kind="dunning",
        state=f"{account.dunning_state}:{account.dunning_invoice_lago_id}:{problem}:{failed_at}",
        tone="warn",
        title=title,
        detail=detail,
        next_step=step,
        links=links,
    )


def _suspended(account: BillingAccount, zone: str, may_act: bool, who: str) -> Banner:
    invoice = _invoice(account.dunning_invoice_lago_id)
    problem = payment_problem(account, False)
    step, links = _next_step(problem, account, may_act, who)
    since = local_day(account.suspended_at, zone) if account.suspended_at else None
    return Banner(
        kind="suspended",
        state=account.suspended_at.isoformat() if account.suspended_at else "suspended",
        tone="warn",
        title="Your account is suspended for an unpaid invoice",
        detail=(
            f"{_invoice_words(invoice)[0].upper()}{_invoice_words(invoice)[1:]} stayed unpaid "
            f"after its due date{f', so access was suspended on {since}' if since else ''}. "
            "Your data, invoices, team and settings are kept; access comes back as soon as "
            "the payment goes through."
        ),
        next_step=step,
        links=links,
    )


def _next_step(
    problem: str, account: BillingAccount, may_act: bool, who: str
) -> tuple[str, tuple[Link, ...]]:
    """What to do about the payment, and the links that do it (for those who may act)."""
    if problem == AUTHENTICATION:
        action_url = _action_url(account.tenant_id)
        if action_url:
            links = (Link("Confirm the payment", action_url),)
            return "Confirm it with your bank to pay the invoice.", links
        return "Your bank sends the confirmation request to the card holder; approve it there.", ()
    if not may_act:
        return f"{who} can sort out the card.", ()
    if problem == NO_CARD:
        fix = _links(("Add a card and pay", "cards.fix"))
        return "Add a card to your billing account to pay it.", tuple(fix)
    fix = _links(("Fix the payment", "cards.fix"))
    return (
        "Check with your bank that the card can be charged: enough funds, not expired, "
        "not blocked. Or choose another card and try again.",
        tuple(fix),
    )


# -- Reads ------------------------------------------------------------------------------------


def _links(*wanted: tuple[str, str]) -> list[Link]:
    return [Link(label, url) for label, endpoint in wanted if (url := page_url(endpoint))]


def _invoice(lago_id: str | None) -> InvoiceMirror | None:
    if lago_id is None:
        return None
    return db.session.scalar(sa.select(InvoiceMirror).where(InvoiceMirror.lago_id == lago_id))


def _invoice_words(invoice: InvoiceMirror | None) -> str:
    if invoice is None:
        return "an invoice"
    number = f"invoice {invoice.number}" if invoice.number else "an invoice"
    due = invoice.total_due_amount_cents
    if due is None:
        due = invoice.total_amount_cents
    return f"{number} ({amount(due, invoice.currency)})"


def _action_url(tenant_id: int) -> str | None:
    """The bank's confirmation page of an unpaid invoice waiting for 3-D Secure, if any."""
    return db.session.scalar(
        sa.select(InvoiceMirror.payment_action_url)
        .where(
            InvoiceMirror.tenant_id == tenant_id,
            InvoiceMirror.payment_action_url.is_not(None),
            InvoiceMirror.payment_status != "succeeded",
        )
        .order_by(InvoiceMirror.issuing_date, InvoiceMirror.id)
        .limit(1)
    )


def _waiting_for_bank(tenant_id: int) -> bool:
    query = sa.select(Notice.id).where(
        Notice.tenant_id == tenant_id,
        Notice.kind == dunning.ACTION,
        Notice.resolved_at.is_(None),
    )
    return db.session.scalar(query.limit(1)) is not None


def _who_can_act(tenant: Tenant) -> str:
    """'Ada Lovelace (owner) or Bob (billing admin)': the people who manage billing."""
    rows = db.session.execute(
        sa.select(User.name, User.email, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.tenant_id == tenant.id,
            Membership.role.in_((Role.owner, Role.billing_admin)),
        )
        .order_by(sa.case((Membership.role == Role.owner, 0), else_=1), Membership.id)
        .limit(3)
    ).all()
    if not rows:
        return "An owner or billing admin"
    names = [f"{name or email} ({role.label.lower()})" for name, email, role in rows]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
