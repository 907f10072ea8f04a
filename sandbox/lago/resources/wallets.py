"""Wallets (prepaid credits) and wallet transactions.

Granted credits settle at once; paid credits create a pending transaction and a `credit` invoice
(invoice.paid_credit_added) that settles the transaction when it is paid; voided credits leave
at once. Subscription invoices consume the balance (outbound `invoiced` transactions). The
ongoing balance is the balance minus the current usage of the customer's subscriptions;
`wallet.depleted_ongoing_balance` goes out when it reaches zero.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..clock import iso, parse_iso
from ..spec import schema_enum
from ..state import Standin, current
from ..store import new_id
from . import Problems, customers, invoices, register_object, require, usage

bp = Blueprint("wallets", __name__)

KIND = "wallet"
TRANSACTION_KIND = "wallet_transaction"
MAXIMUM_WALLETS_PER_CUSTOMER = 6


def _credits(cents: int, rate: str) -> Decimal:
    return Decimal(cents) / 100 / Decimal(rate)


def _cents(credits: Decimal, rate: str) -> int:
    return usage.to_cents(credits * Decimal(rate))


def serialize(standin: Standin, wallet: dict[str, Any]) -> dict[str, Any]:
    """A wallet as V1::WalletSerializer renders it."""
    rate = wallet["rate_amount"]
    ongoing_usage = wallet.get("ongoing_usage_balance_cents", 0)
    ongoing = wallet["balance_cents"] - ongoing_usage
    return {
        "lago_id": wallet["id"],
        "lago_customer_id": wallet["customer_id"],
        "external_customer_id": wallet["external_customer_id"],
        "billing_entity_code": standin.org()["billing_entity_code"],
        "status": wallet["status"],
        "currency": wallet["currency"],
        "name": wallet.get("name"),
        "code": wallet.get("code"),
        "priority": wallet.get("priority", 50),
        "rate_amount": usage.decimal_str(Decimal(rate)),
        "credits_balance": usage.decimal_str(_credits(wallet["balance_cents"], rate)),
        "balance": usage.decimal_str(Decimal(wallet["balance_cents"]) / 100),
        "credits_ongoing_balance": usage.decimal_str(_credits(ongoing, rate)),
        "credits_ongoing_usage_balance": usage.decimal_str(_credits(ongoing_usage, rate)),
        "balance_cents": wallet["balance_cents"],
        "ongoing_balance_cents": ongoing,
        "ongoing_usage_balance_cents": ongoing_usage,
        "consumed_credits": usage.decimal_str(_credits(wallet["consumed_amount_cents"], rate)),
        "consumed_amount_cents": wallet["consumed_amount_cents"],
        "created_at": wallet["created_at"],
        "expiration_at": wallet.get("expiration_at"),
        "last_balance_sync_at": wallet.get("last_balance_sync_at"),
        "last_consumed_credit_at": wallet.get("last_consumed_credit_at"),
        "terminated_at": wallet.get("terminated_at"),
        "invoice_requires_successful_payment": wallet.get(
            "invoice_requires_successful_payment", False
        ),
        "paid_top_up_min_amount_cents": wallet.get("paid_top_up_min_amount_cents"),
        "paid_top_up_max_amount_cents": wallet.get("paid_top_up_max_amount_cents"),
        "applies_to": {
            "fee_types": list((wallet.get("applies_to") or {}).get("fee_types") or []),
            "billable_metric_codes": list(
                (wallet.get("applies_to") or {}).get("billable_metric_codes") or []
            ),
        },
        "recurring_transaction_rules": [],
        "applied_invoice_custom_sections": [],
        "payment_method": {
            "payment_method_id": wallet.get("payment_method_id"),
            "payment_method_type": wallet.get("payment_method_type", "provider"),
        },
        "purchase_order_number": wallet.get("purchase_order_number"),
        "metadata": wallet.get("metadata"),
    }


def serialize_transaction(
    standin: Standin, transaction: dict[str, Any], *, with_wallet: bool = False
) -> dict[str, Any]:
    """A wallet transaction as V1::WalletTransactionSerializer renders it."""
    wallet = standin.store.get(KIND, transaction["wallet_id"], include_deleted=True)
    assert wallet is not None
    rate = wallet["rate_amount"]
    data = {
        "lago_id": transaction["id"],
        "lago_wallet_id": wallet["id"],
        "lago_invoice_id": transaction.get("invoice_id"),
        "lago_credit_note_id": None,
        "lago_voided_invoice_id": None,
        "billing_entity_code": standin.org()["billing_entity_code"],
        "status": transaction["status"],
        "source": transaction.get("source", "manual"),
        "transaction_status": transaction["transaction_status"],
        "transaction_type": transaction["transaction_type"],
        "amount": usage.decimal_str(Decimal(transaction["amount_cents"]) / 100),
        "credit_amount": usage.decimal_str(_credits(transaction["amount_cents"], rate)),
        "remaining_amount_cents": transaction.get("remaining_amount_cents"),
        "remaining_credit_amount": (
            None
            if transaction.get("remaining_amount_cents") is None
            else usage.decimal_str(_credits(transaction["remaining_amount_cents"], rate))
        ),
        "priority": wallet.get("priority", 50),
        "purchase_order_number": transaction.get("purchase_order_number"),
        "settled_at": transaction.get("settled_at"),
        "failed_at": transaction.get("failed_at"),
        "created_at": transaction["created_at"],
        "invoice_requires_successful_payment": transaction.get(
            "invoice_requires_successful_payment", False
        ),
        "metadata": list(transaction.get("metadata") or []),
        "name": transaction.get("name"),
        "applied_invoice_custom_sections": [],
        "payment_method": {
            "payment_method_id": transaction.get("payment_method_id"),
            "payment_method_type": transaction.get("payment_method_type", "provider"),
        },
    }
    if with_wallet:
        data["wallet"] = serialize(standin, wallet)
    return data


def emit_transaction(standin: Standin, webhook_type: str, transaction: dict[str, Any]) -> None:
    """wallet_transaction.created / .updated, with the wallet."""
    standin.webhooks.emit(
        webhook_type, serialize_transaction(standin, transaction, with_wallet=True)
    )


def save(standin: Standin, wallet: dict[str, Any]) -> dict[str, Any]:
    """Store a wallet."""
    return standin.store.save(KIND, wallet)


def active_for_customer(standin: Standin, customer_id: str) -> list[dict[str, Any]]:
    """A customer's active wallets, by priority then age."""
    found = standin.store.all(
        KIND,
        newest_first=False,
        where=lambda w: w["customer_id"] == customer_id and w["status"] == "active",
    )
    return sorted(found, key=lambda w: w.get("priority", 50))


def get_or_404(standin: Standin, lago_id: str) -> dict[str, Any]:
    """The wallet with this id, or 404 wallet_not_found."""
    wallet = standin.store.get(KIND, lago_id)
    if wallet is None:
        raise errors.not_found("wallet")
    return wallet


def _decimal(value: Any, field: str, problems: Problems) -> Decimal | None:
    """Validators::DecimalAmountService: a non-negative decimal amount."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0:
        problems.add(field, f"invalid_{field}")
        problems.add(field, "invalid_amount")
        return None
    return number


# --- wallets -------------------------------------------------------------------------------


def create(standin: Standin, params: dict[str, Any]) -> dict[str, Any]:
    """Create a wallet, then its initial paid and granted credits."""
    customer = customers.find(standin, params.get("external_customer_id") or "")
    problems = Problems()
    if customer is None:
        raise errors.single_validation_error("customer_not_found", "customer")
    rate = _decimal(params.get("rate_amount"), "rate_amount", problems)
    if rate is not None and rate <= 0:
        problems.add("rate_amount", "invalid_rate_amount")
    currency = params.get("currency")
    if currency not in schema_enum("Currency"):
        problems.add("currency", "value_is_invalid")
    elif customer.get("currency") and customer["currency"] != currency:
        problems.add("currency", "currencies_does_not_match")
    paid = _decimal(params.get("paid_credits"), "paid_credits", problems)
    granted = _decimal(params.get("granted_credits"), "granted_credits", problems)
    if len(active_for_customer(standin, customer["id"])) >= MAXIMUM_WALLETS_PER_CUSTOMER:
        problems.add("customer", "wallet_limit_reached")
    code = params.get("code")
    if code and any(w.get("code") == code for w in active_for_customer(standin, customer["id"])):
        problems.add("code", "value_already_exist")
    expiration = params.get("expiration_at")
    if expiration is not None and (
        parse_iso(expiration) is None or parse_iso(expiration) <= standin.clock.now()  # type: ignore[operator]
    ):
        problems.add("expiration_at", "invalid_date")
    problems.raise_if_any()
    if customer.get("currency") is None:
        customer["currency"] = currency
        standin.store.save(customers.KIND, customer, key=customer["external_id"])
    method = params.get("payment_method") or {}
    wallet = standin.store.insert(
        KIND,
        {
            "customer_id": customer["id"],
            "external_customer_id": customer["external_id"],
            "name": params.get("name"),
            "code": code or (params.get("name") or "default").lower().replace(" ", "_"),
            "priority": params.get("priority", 50),
            "currency": currency,
            "rate_amount": str(rate),
            "status": "active",
            "balance_cents": 0,
            "granted_cents": 0,
            "purchased_cents": 0,
            "consumed_amount_cents": 0,
            "ongoing_usage_balance_cents": 0,
            "depleted": False,
            "expiration_at": iso(parse_iso(expiration)) if expiration else None,
            "terminated_at": None,
            "invoice_requires_successful_payment": bool(
                params.get("invoice_requires_successful_payment", False)
            ),
            "paid_top_up_min_amount_cents": params.get("paid_top_up_min_amount_cents"),
            "paid_top_up_max_amount_cents": params.get("paid_top_up_max_amount_cents"),
            "applies_to": params.get("applies_to") or {},
            "payment_method_type": method.get("payment_method_type", "provider"),
            "payment_method_id": method.get("payment_method_id"),
            "purchase_order_number": params.get("purchase_order_number"),
            "metadata": params.get("metadata"),
            "last_balance_sync_at": None,
            "last_consumed_credit_at": None,
        },
    )
    standin.webhooks.emit("wallet.created", serialize(standin, wallet))
    add_transactions(
        standin,
        wallet,
        paid=paid,
        granted=granted,
        voided=None,
        options={
            "name": params.get("transaction_name"),
            "metadata": params.get("transaction_metadata") or [],
            "invoice_requires_successful_payment": wallet["invoice_requires_successful_payment"],
            "purchase_order_number": params.get("purchase_order_number"),
        },
    )
    return standin.store.get(KIND, wallet["id"]) or wallet


def terminate(standin: Standin, wallet: dict[str, Any]) -> dict[str, Any]:
    """DELETE /wallets/{id}: the wallet stops (its balance is not refunded)."""
    if wallet["status"] == "active":
        wallet["status"] = "terminated"
        wallet["terminated_at"] = standin.clock.now_iso()
        wallet = save(standin, wallet)
        standin.webhooks.emit("wallet.terminated", serialize(standin, wallet))
    return wallet


# --- transactions --------------------------------------------------------------------------


def _new_transaction(
    standin: Standin,
    wallet: dict[str, Any],
    *,
    status: str,
    transaction_status: str,
    transaction_type: str,
    amount_cents: int,
    options: dict[str, Any],
) -> dict[str, Any]:
    now = standin.clock.now_iso()
    return standin.store.insert(
        TRANSACTION_KIND,
        {
            "wallet_id": wallet["id"],
            "customer_id": wallet["customer_id"],
            "status": status,
            "source": "manual",
            "transaction_status": transaction_status,
            "transaction_type": transaction_type,
            "amount_cents": amount_cents,
            "remaining_amount_cents": amount_cents if transaction_type == "inbound" else None,
            "settled_at": now if status == "settled" else None,
            "failed_at": None,
            "invoice_id": options.get("invoice_id"),
            "name": options.get("name"),
            "metadata": options.get("metadata") or [],
            "invoice_requires_successful_payment": bool(
                options.get("invoice_requires_successful_payment", False)
            ),
            "purchase_order_number": options.get("purchase_order_number"),
            "payment_method_type": (options.get("payment_method") or {}).get(
                "payment_method_type", "provider"
            ),
            "payment_method_id": (options.get("payment_method") or {}).get("payment_method_id"),
        },
    )


def add_transactions(
    standin: Standin,
    wallet: dict[str, Any],
    *,
    paid: Decimal | None,
    granted: Decimal | None,
    voided: Decimal | None,
    options: dict[str, Any],
) -> list[dict[str, Any]]:
    """WalletTransactions::CreateFromParamsService: the paid credits (pending), the granted
    credits (settled at once), the voided credits, each announced by wallet_transaction.created
    in that order; then BillPaidCreditJob invoices the paid credits, which settle once that
    invoice is paid (wallet_transaction.updated)."""
    created = []
    rate = wallet["rate_amount"]
    purchase = None
    if paid:
        purchase = _new_transaction(
            standin,
            wallet,
            status="pending",
            transaction_status="purchased",
            transaction_type="inbound",
            amount_cents=_cents(paid, rate),
            options=options,
        )
        created.append(purchase)
    if granted:
        cents = _cents(granted, rate)
        created.append(
            _new_transaction(
                standin,
                wallet,
                status="settled",
                transaction_status="granted",
                transaction_type="inbound",
                amount_cents=cents,
                options=options,
            )
        )
        wallet = _change_balance(standin, wallet, cents, granted=True)
    if voided:
        cents = _cents(voided, rate)
        created.append(
            _new_transaction(
                standin,
                wallet,
                status="settled",
                transaction_status="voided",
                transaction_type="outbound",
                amount_cents=cents,
                options=options,
            )
        )
        wallet = _change_balance(standin, wallet, -cents)
    for transaction in created:
        emit_transaction(standin, "wallet_transaction.created", transaction)
    if purchase is not None and paid is not None:
        _credit_invoice(standin, wallet, purchase, paid)
    refresh_ongoing_balances(standin, wallet["customer_id"])
    return created


def _credit_invoice(
    standin: Standin, wallet: dict[str, Any], transaction: dict[str, Any], credits: Decimal
) -> dict[str, Any]:
    """Invoices::PaidCreditService: a `credit` invoice for purchased credits."""
    customer = customers.get_by_id(standin, wallet["customer_id"])
    now = standin.clock.now()
    fee = {
        "id": new_id(),
        "fee_type": "credit",
        "item": {
            "type": "credit",
            "code": "credit",
            "name": "credit",
            "description": None,
            "invoice_display_name": transaction.get("name") or "Prepaid credits",
            "filter_invoice_display_name": None,
            "filters": None,
            "lago_item_id": transaction["id"],
            "item_type": "WalletTransaction",
            "grouped_by": {},
        },
        "amount_cents": transaction["amount_cents"],
        "units": usage.decimal_str(credits),
        "precise_unit_amount": usage.decimal_str(Decimal(wallet["rate_amount"])),
        "events_count": None,
        "pay_in_advance": True,
        "from_date": None,
        "to_date": None,
        "created_at": iso(now),
    }
    transaction["invoice_id"] = None
    invoice = invoices.create(
        standin,
        customer,
        invoice_type="credit",
        fees=[fee],
        at=now,
        currency=wallet["currency"],
        extra={"wallet_transaction_id": transaction["id"]},
        finalize_now=False,
    )
    stored = standin.store.get(TRANSACTION_KIND, transaction["id"])
    if stored is not None:
        stored["invoice_id"] = invoice["id"]
        standin.store.save(TRANSACTION_KIND, stored)
    return invoices.finalize(standin, invoice, at=now)


def _change_balance(
    standin: Standin, wallet: dict[str, Any], cents: int, *, granted: bool = False
) -> dict[str, Any]:
    wallet = standin.store.get(KIND, wallet["id"]) or wallet
    wallet["balance_cents"] += cents
    if cents > 0:
        wallet["granted_cents" if granted else "purchased_cents"] += cents
    else:
        taken = -cents
        from_granted = min(wallet["granted_cents"], taken)
        wallet["granted_cents"] -= from_granted
        wallet["purchased_cents"] = max(wallet["purchased_cents"] - (taken - from_granted), 0)
    wallet["last_balance_sync_at"] = standin.clock.now_iso()
    wallet = save(standin, wallet)
    _process_alerts(standin, wallet)
    return wallet


def _process_alerts(standin: Standin, wallet: dict[str, Any]) -> None:
    """The balance moved: ProcessWalletAlertsJob (wallet alerts import this module)."""
    from . import wallet_alerts

    wallet_alerts.process_wallet(standin, wallet)


def invoice_paid(standin: Standin, invoice: dict[str, Any]) -> None:
    """A paid `credit` invoice settles its purchased credits (wallet_transaction.updated)."""
    if invoice["invoice_type"] != "credit" or not invoice.get("wallet_transaction_id"):
        return
    transaction = standin.store.get(TRANSACTION_KIND, invoice["wallet_transaction_id"])
    if transaction is None or transaction["status"] == "settled":
        return
    transaction["status"] = "settled"
    transaction["settled_at"] = standin.clock.now_iso()
    transaction = standin.store.save(TRANSACTION_KIND, transaction)
    wallet = standin.store.get(KIND, transaction["wallet_id"])
    if wallet is not None:
        _change_balance(standin, wallet, transaction["amount_cents"])
    emit_transaction(standin, "wallet_transaction.updated", transaction)
    refresh_ongoing_balances(standin, transaction["customer_id"])


def invoice_payment_failed(standin: Standin, invoice: dict[str, Any]) -> None:
    """Invoices::PrepaidCreditJob: a failed payment of a `credit` invoice marks its pending
    purchase failed (WalletTransactions::MarkAsFailedService, `wallet_transaction.updated`);
    a settled one stays settled."""
    if invoice["invoice_type"] != "credit" or not invoice.get("wallet_transaction_id"):
        return
    transaction = standin.store.get(TRANSACTION_KIND, invoice["wallet_transaction_id"])
    if transaction is None or transaction["status"] != "pending":
        return
    transaction["status"] = "failed"
    transaction["failed_at"] = standin.clock.now_iso()
    transaction = standin.store.save(TRANSACTION_KIND, transaction)
    emit_transaction(standin, "wallet_transaction.updated", transaction)


def apply_to_invoice(standin: Standin, invoice: dict[str, Any]) -> tuple[int, int, int]:
    """Pay what is left of a subscription invoice from the wallets: (total, granted, paid)."""
    remaining = invoice["total_amount_cents"]
    applied = granted_used = purchased_used = 0
    for wallet in active_for_customer(standin, invoice["customer_id"]):
        if remaining <= 0:
            break
        if wallet["currency"] != invoice["currency"] or wallet["balance_cents"] <= 0:
            continue
        used = min(wallet["balance_cents"], remaining)
        from_granted = min(wallet["granted_cents"], used)
        remaining -= used
        applied += used
        granted_used += from_granted
        purchased_used += used - from_granted
        wallet = _change_balance(standin, wallet, -used)
        wallet["consumed_amount_cents"] += used
        wallet["last_consumed_credit_at"] = standin.clock.now_iso()
        wallet = save(standin, wallet)
        transaction = _new_transaction(
            standin,
            wallet,
            status="settled",
            transaction_status="invoiced",
            transaction_type="outbound",
            amount_cents=used,
            options={"invoice_id": invoice["id"]},
        )
        emit_transaction(standin, "wallet_transaction.created", transaction)
    return applied, granted_used, purchased_used


def available_cents(standin: Standin, customer_id: str, currency: str) -> int:
    """What the customer's active wallets in this currency could pay."""
    return sum(
        max(w["balance_cents"], 0)
        for w in active_for_customer(standin, customer_id)
        if w["currency"] == currency
    )


def recredit(standin: Standin, invoice: dict[str, Any]) -> None:
    """WalletTransactions::RecreditService: a voided invoice gives back the credits it used."""
    used = standin.store.all(
        TRANSACTION_KIND,
        newest_first=False,
        where=lambda t: (
            t.get("invoice_id") == invoice["id"]
            and t["transaction_type"] == "outbound"
            and t["transaction_status"] == "invoiced"
        ),
    )
    for outbound in used:
        wallet = standin.store.get(KIND, outbound["wallet_id"])
        if wallet is None or wallet["status"] != "active":
            continue
        transaction = _new_transaction(
            standin,
            wallet,
            status="settled",
            transaction_status="granted",
            transaction_type="inbound",
            amount_cents=outbound["amount_cents"],
            options={"name": f"Recredit of invoice {invoice['number']}"},
        )
        _change_balance(standin, wallet, outbound["amount_cents"], granted=True)
        emit_transaction(standin, "wallet_transaction.created", transaction)
    if used:
        refresh_ongoing_balances(standin, invoice["customer_id"])


def after_invoice(standin: Standin, invoice: dict[str, Any]) -> None:
    """Balances may have moved: refresh the ongoing balances."""
    refresh_ongoing_balances(standin, invoice["customer_id"])


def refresh_ongoing_balances(standin: Standin, customer_id: str) -> None:
    """Wallets::Balance::RefreshOngoingService: balance minus current usage; a wallet whose
    ongoing balance reaches zero sends wallet.depleted_ongoing_balance (once until refilled)."""
    wallets = active_for_customer(standin, customer_id)
    if not wallets:
        return
    ongoing_usage = usage.ongoing_usage_cents(standin, customer_id)
    for wallet in wallets:
        wallet["ongoing_usage_balance_cents"] = ongoing_usage
        wallet["last_balance_sync_at"] = standin.clock.now_iso()
        depleted = wallet["balance_cents"] - ongoing_usage <= 0
        announce = depleted and not wallet.get("depleted")
        wallet["depleted"] = depleted
        wallet = save(standin, wallet)
        if announce:
            standin.webhooks.emit("wallet.depleted_ongoing_balance", serialize(standin, wallet))
        _process_alerts(standin, wallet)


# --- trigger finders -----------------------------------------------------------------------


@register_object("wallet")
def _find_wallet(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    wallet = standin.store.get(KIND, identifier, include_deleted=True)
    return serialize(standin, wallet) if wallet else None


@register_object("wallet_transaction")
def _find_transaction(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    transaction = standin.store.get(TRANSACTION_KIND, identifier)
    return serialize_transaction(standin, transaction, with_wallet=True) if transaction else None


# --- routes --------------------------------------------------------------------------------


def _paginated_wallets(standin: Standin, found: list[dict[str, Any]]):
    return jsonify(
        pagination.collection("wallets", found, lambda w: serialize(standin, w), request.args)
    )


@bp.post("/wallets")
def create_wallet():
    standin = current()
    wallet = create(standin, require("wallet"))
    return jsonify(wallet=serialize(standin, wallet))


@bp.post("/customers/<external_customer_id>/wallets")
def create_customer_wallet(external_customer_id: str):
    standin = current()
    params = require("wallet") | {"external_customer_id": external_customer_id}
    wallet = create(standin, params)
    return jsonify(wallet=serialize(standin, wallet))


@bp.get("/wallets")
def list_wallets():
    standin = current()
    external_id = request.args.get("external_customer_id")
    customer = customers.get_or_404(standin, external_id or "")
    return _paginated_wallets(standin, _customer_wallets(standin, customer))


@bp.get("/customers/<external_customer_id>/wallets")
def list_customer_wallets(external_customer_id: str):
    standin = current()
    customer = customers.get_or_404(standin, external_customer_id)
    return _paginated_wallets(standin, _customer_wallets(standin, customer))


def _customer_wallets(standin: Standin, customer: dict[str, Any]) -> list[dict[str, Any]]:
    found = standin.store.all(KIND, where=lambda w: w["customer_id"] == customer["id"])
    if request.args.get("currency"):
        found = [w for w in found if w["currency"] == request.args["currency"]]
    return found


@bp.get("/wallets/<lago_id>")
def get_wallet(lago_id: str):
    standin = current()
    return jsonify(wallet=serialize(standin, get_or_404(standin, lago_id)))


@bp.put("/wallets/<lago_id>")
def update_wallet(lago_id: str):
    standin = current()
    wallet = get_or_404(standin, lago_id)
    params = require("wallet")
    for name in (
        "name",
        "priority",
        "expiration_at",
        "invoice_requires_successful_payment",
        "paid_top_up_min_amount_cents",
        "paid_top_up_max_amount_cents",
        "purchase_order_number",
        "metadata",
        "applies_to",
    ):
        if name in params:
            wallet[name] = params[name]
    wallet = save(standin, wallet)
    standin.webhooks.emit("wallet.updated", serialize(standin, wallet))
    return jsonify(wallet=serialize(standin, wallet))


@bp.delete("/wallets/<lago_id>")
def delete_wallet(lago_id: str):
    standin = current()
    wallet = terminate(standin, get_or_404(standin, lago_id))
    return jsonify(wallet=serialize(standin, wallet))


@bp.post("/wallet_transactions")
def create_wallet_transactions():
    standin = current()
    params = require("wallet_transaction")
    wallet = standin.store.get(KIND, params.get("wallet_id") or "")
    problems = Problems()
    if wallet is None:
        problems.add("wallet_id", "wallet_not_found")
    elif wallet["status"] != "active":
        problems.add("wallet_id", "wallet_is_terminated")
    paid = _decimal(params.get("paid_credits"), "paid_credits", problems)
    granted = _decimal(params.get("granted_credits"), "granted_credits", problems)
    voided = _decimal(params.get("voided_credits"), "voided_credits", problems)
    if (
        wallet is not None
        and voided is not None
        and voided > _credits(wallet["balance_cents"], wallet["rate_amount"])
    ):
        problems.add("voided_credits", "insufficient_credits")
    problems.raise_if_any()
    assert wallet is not None
    options = {
        "name": params.get("name"),
        "metadata": params.get("metadata") or [],
        "invoice_requires_successful_payment": params.get(
            "invoice_requires_successful_payment", wallet["invoice_requires_successful_payment"]
        ),
        "purchase_order_number": params.get("purchase_order_number"),
        "payment_method": params.get("payment_method"),
    }
    created = add_transactions(
        standin, wallet, paid=paid, granted=granted, voided=voided, options=options
    )
    # Payment runs after lago-api has answered: the answer shows each transaction's status as
    # created, whatever the credit invoice's first payment attempt did to it since.
    fresh = [
        (standin.store.get(TRANSACTION_KIND, t["id"]) or t)
        | {key: t[key] for key in ("status", "settled_at", "failed_at")}
        for t in created
    ]
    return jsonify(wallet_transactions=[serialize_transaction(standin, t) for t in fresh])


@bp.get("/wallets/<lago_id>/wallet_transactions")
def list_wallet_transactions(lago_id: str):
    standin = current()
    wallet = get_or_404(standin, lago_id)
    args = request.args
    found = standin.store.all(TRANSACTION_KIND, where=lambda t: t["wallet_id"] == wallet["id"])
    for name in ("status", "transaction_status", "transaction_type"):
        if args.get(name):
            found = [t for t in found if t[name] == args[name]]
    return jsonify(
        pagination.collection(
            "wallet_transactions",
            found,
            lambda t: serialize_transaction(standin, t),
            request.args,
        )
    )
