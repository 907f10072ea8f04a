"""Thin views: the cards page, adding a card (Stripe Elements), default, removal, and fix-it."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user

from portal import payments
from portal.access import billing_manager_required, member_required
from portal.auth.forms import ConfirmForm
from portal.billing.connection import NotConnected
from portal.billing.sentences import for_customer
from portal.cards import bp, services
from portal.cards import fix as payment_fix
from portal.extensions import db
from portal.htmx import redirect_to, render_page
from portal.lago import LagoError
from portal.models import utcnow
from portal.notify.formatting import billing_contact
from portal.operations import services as operations
from portal.operations.runner import execute
from portal.operations.services import OperationConflict
from portal.payments import PaymentError
from portal.subscription.forms import ActionForm


def _can_manage() -> bool:
    return g.membership.role.can_manage_billing


def _refused(message: str, endpoint: str = "cards.index", **values):
    db.session.rollback()
    flash(message, "error")
    return redirect_to(endpoint, **values)


@bp.route("/")
@member_required
def index():
    """The tenant's cards; unfinished setups are read from Stripe (the page never stays stuck)."""
    waiting, problem = [], None
    if _can_manage():
        try:
            with payments.request_deadline():
                waiting = services.recover_setups(g.tenant)
            db.session.commit()
        except PaymentError as error:
            db.session.rollback()
            problem = error.sentence
    operation = _operation(request.args.get("operation", type=int))
    return render_page(
        "cards/index.html",
        fragments=("cards-list",),
        cards=services.listed(g.tenant),
        default=services.default_card(g.tenant),
        waiting=waiting,
        problem=problem,
        today=utcnow().date(),
        manages=_can_manage(),
        operation=operation,
        step=payment_fix.next_step(g.tenant),
        form=ActionForm(),
    )


def _operation(operation_id: int | None):
    if operation_id is None:
        return None
    return operations.for_tenant(operation_id, g.tenant.id)


@bp.route("/add")
@billing_manager_required
def add():
    """The Payment Element on a new SetupIntent; Stripe.js sends the card to Stripe only."""
    settings = payments.effective()
    if not settings.browser_ready:
        return _refused(payments.errors.NotConfigured.sentence)
    try:
        with payments.request_deadline():
            intent = services.open_setup(g.tenant, operations.new_key())
        db.session.commit()
    except PaymentError as error:
        return _refused(error.sentence)
    return render_page(
        "cards/add.html",
        client_secret=intent.client_secret,
        publishable_key=settings.publishable_key,
        stripe_js_url=settings.js_url,
        return_url=url_for("cards.returned", next=request.args.get("next"), _external=True),
        then=request.args.get("next"),
    )


@bp.route("/added")
@billing_manager_required
def returned():
    """Where Stripe.js sends the browser back: the SetupIntent, read from Stripe, says what
    happened."""
    setup = services.setup_of(g.tenant, request.args.get("setup_intent", ""))
    if setup is None:
        abort(404)
    try:
        with payments.request_deadline():
            outcome = services.settle_setup(g.tenant, setup)
        db.session.commit()
    except payments.errors.NotFound:
        db.session.rollback()
        abort(404)
    except PaymentError as error:
        return _refused(error.sentence)
    if outcome.kind == "saved" and request.args.get("next") == "fix":
        flash(outcome.message, "ok")
        return redirect(url_for("cards.fix"), 303)
    return render_page("cards/returned.html", outcome=outcome)


@bp.route("/setups/<setup_intent_id>/cancel", methods=["POST"])
@billing_manager_required
def cancel_setup(setup_intent_id: str):
    """Give up on a card still waiting for authentication."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    setup = services.setup_of(g.tenant, setup_intent_id)
    if setup is None:
        abort(404)
    try:
        with payments.request_deadline():
            services.cancel_setup(g.tenant, setup)
    except PaymentError as error:
        return _refused(error.sentence)
    db.session.commit()
    flash("The card setup was cancelled; no card was saved.", "ok")
    return redirect_to("cards.index")


def _card_or_404(card_id: int):
    card = services.card_of(g.tenant, card_id)
    if card is None:
        abort(404)
    return card


@bp.route("/<int:card_id>/default", methods=["POST"])
@billing_manager_required
def make_default(card_id: int):
    """Charge the next invoices to this card (Stripe's default and Lago's)."""
    card = _card_or_404(card_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        operation = services.plan_default(g.tenant, current_user.id, form.key.data, card)
    except (services.Refused, OperationConflict) as refusal:
        return _refused(str(refusal))
    with payments.request_deadline():
        operation = execute(operation, lambda: services.send_default(g.tenant, operation))
    then = "cards.fix" if request.form.get("then") == "fix" else "cards.index"
    return redirect_to(then, operation=operation.id)


@bp.route("/<int:card_id>/remove", methods=["GET", "POST"])
@billing_manager_required
def remove(card_id: int):
    """Ask first; the rules say when a card may not go."""
    card = _card_or_404(card_id)
    refusal = services.removal_refusal(g.tenant, card)
    form = ActionForm()
    if request.method == "GET" or not form.validate_on_submit():
        if request.method == "POST":
            abort(400)
        return render_page(
            "cards/remove.html", card=card, refusal=refusal, form=form, label=services.label(card)
        )
    try:
        operation = services.plan_removal(g.tenant, current_user.id, form.key.data, card)
    except (services.Refused, OperationConflict) as refusal_error:
        return _refused(str(refusal_error))
    with payments.request_deadline():
        operation = execute(operation, lambda: services.send_removal(g.tenant, operation))
    return redirect_to("cards.index", operation=operation.id)


# -- getting a failed payment paid -------------------------------------------------------------


@bp.route("/fix")
@member_required
def fix():
    """Fix it: a card to charge, then every open invoice retried, with each one's result."""
    operation = _operation(request.args.get("operation", type=int))
    if operation is not None and operation.kind != payment_fix.RETRY:
        operation = None
    if operation is not None:
        operations.settle(operation)
        db.session.commit()
    return render_page(
        "cards/fix.html",
        fragments=("fix-invoices",),
        step=payment_fix.next_step(g.tenant),
        cards=services.listed(g.tenant),
        default=services.default_card(g.tenant),
        results=payment_fix.results(g.tenant, operation),
        operation=operation,
        manages=_can_manage(),
        form=ActionForm(),
        today=utcnow().date(),
        cards_addable=payments.effective().browser_ready,
        contact=billing_contact(),
    )


@bp.route("/fix/retry", methods=["POST"])
@billing_manager_required
def retry():
    """Retry the payment of every open invoice."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        operation = payment_fix.plan_retry(g.tenant, current_user.id, form.key.data)
    except (services.Refused, OperationConflict) as refusal:
        return _refused(str(refusal), "cards.fix")
    return _send_retry(operation)


def _send_retry(operation):
    try:
        operation = execute(operation, lambda: payment_fix.send_retry(g.tenant, operation))
    except NotConnected as error:
        return _refused(error.message, "cards.fix")
    return redirect_to("cards.fix", operation=operation.id)


@bp.route("/fix/pay/<invoice_id>")
@billing_manager_required
def pay(invoice_id: str):
    """To the page where the customer confirms (3-D Secure) or pays this invoice."""
    try:
        url = payment_fix.payment_url(g.tenant, invoice_id)
    except (NotConnected, LagoError) as error:
        return _refused_by_billing(error)
    if url is None:
        abort(404)
    return redirect(url, 303)


def _refused_by_billing(error: NotConnected | LagoError):
    message = error.message if isinstance(error, NotConnected) else for_customer(error)
    return _refused(message, "cards.fix")


@bp.route("/fix/pay/<invoice_id>", methods=["POST"])
@billing_manager_required
def pay_now(invoice_id: str):
    """Pay now on one invoice: its payment retried with the default card, or Lago's payment
    page when the bank asks for a confirmation or there is no card."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        invoice = payment_fix.payable_invoice(g.tenant, invoice_id)
    except (NotConnected, LagoError) as error:
        return _refused_by_billing(error)
    if invoice is None:
        abort(404)
    if payment_fix.needs_payment_page(g.tenant, invoice):
        db.session.commit()
        return redirect_to("cards.pay", invoice_id=invoice.lago_id)
    try:
        operation = payment_fix.plan_pay_now(g.tenant, current_user.id, form.key.data, invoice)
    except (services.Refused, OperationConflict) as refusal:
        return _refused(str(refusal), "invoices.detail", lago_id=invoice.lago_id)
    return _send_retry(operation)
