"""Credit notes: issued for unused pay-in-advance time when a subscription ends early
(CreditNotes::CreateFromTermination), applied to the customer's next invoices; list and get."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..periods import days_between, local_date, zone
from ..state import Standin, current
from ..store import new_id
from . import customers, invoices, register_object, subscriptions

bp = Blueprint("credit_notes", __name__)

KIND = "credit_note"


def serialize(standin: Standin, note: dict[str, Any]) -> dict[str, Any]:
    """A credit note as V1::CreditNoteSerializer renders it (items and customer included)."""
    invoice = standin.store.get(invoices.KIND, note["invoice_id"]) or {}
    customer = customers.get_by_id(standin, note["customer_id"])
    return {
        "lago_id": note["id"],
        "billing_entity_code": standin.org()["billing_entity_code"],
        "sequential_id": note["sequential_id"],
        "number": note["number"],
        "lago_invoice_id": note["invoice_id"],
        "invoice_number": invoice.get("number", ""),
        "issuing_date": note["issuing_date"],
        "credit_status": note["credit_status"],
        "refund_status": note.get("refund_status"),
        "reason": note["reason"],
        "description": note.get("description"),
        "currency": note["currency"],
        "total_amount_cents": note["total_amount_cents"],
        "taxes_amount_cents": 0,
        "taxes_rate": 0.0,
        "sub_total_excluding_taxes_amount_cents": note["total_amount_cents"],
        "balance_amount_cents": note["balance_amount_cents"],
        "credit_amount_cents": note["credit_amount_cents"],
        "refund_amount_cents": note["refund_amount_cents"],
        "offset_amount_cents": 0,
        "coupons_adjustment_amount_cents": 0,
        "created_at": note["created_at"],
        "updated_at": note["updated_at"],
        "file_url": None,
        "self_billed": False,
        "items": [
            {
                "lago_id": item["id"],
                "amount_cents": item["amount_cents"],
                "amount_currency": note["currency"],
                "fee": invoices.serialize_fee(invoice, item["fee"]) if invoice else None,
            }
            for item in note["items"]
            if invoice
        ],
        "applied_taxes": [],
        "customer": customers.serialize(standin, customer),
    }


def _subscription_fee(standin: Standin, sub: dict[str, Any]) -> tuple[dict, dict] | None:
    """The subscription's last subscription fee and its invoice."""
    found = []
    for invoice in invoices.for_customer(standin, sub["customer_id"]):
        for fee in invoice["fees"]:
            if fee["fee_type"] == "subscription" and fee.get("subscription_id") == sub["id"]:
                found.append((fee["created_at"], fee, invoice))
    if not found:
        return None
    _, fee, invoice = max(found, key=lambda item: item[0])
    return fee, invoice


@dataclass
class TerminationCredit:
    """What ending a subscription early credits: unused paid days of its last base fee."""

    amount_cents: int
    fee: dict[str, Any]
    invoice: dict[str, Any]


def termination_credit(
    standin: Standin, sub: dict[str, Any], at: datetime, *, upgrade: bool
) -> TerminationCredit | None:
    """The day price of the last paid-in-advance period times the days left (none when
    nothing is left to credit, or for a plan paid in arrears); nothing is stored."""
    if not subscriptions.plan_of(standin, sub).get("pay_in_advance"):
        return None
    last = _subscription_fee(standin, sub)
    if last is None:
        return None
    fee, invoice = last
    if not fee["amount_cents"] or invoice["status"] == "voided":
        return None
    plan = subscriptions.plan_of(standin, sub)
    tz_name = subscriptions.tz_of(standin, sub)
    tz = zone(tz_name)
    period = subscriptions.current_period(standin, sub, at - timedelta(seconds=1))
    last_day = local_date(period.last_second, tz)
    billed_from = local_date(at, tz) - timedelta(days=1 if upgrade else 0)
    trial = subscriptions.trial_end(standin, sub)
    if trial is not None and local_date(trial, tz) >= billed_from:
        trial_day = local_date(trial, tz)
        billed_from = last_day if trial_day > last_day else trial_day - timedelta(days=1)
    remaining = max((last_day - billed_from).days, 0)
    day_price = Decimal(plan["amount_cents"]) / days_between(period.start, period.end, tz_name)
    credited = sum(
        item["amount_cents"]
        for note in standin.store.all(KIND, where=lambda n: n["invoice_id"] == invoice["id"])
        for item in note["items"]
        if item["fee"]["id"] == fee["id"]
    )
    amount = int((day_price * remaining).quantize(Decimal(1), rounding=ROUND_HALF_UP)) - credited
    amount = min(amount, fee["amount_cents"] - credited)
    return TerminationCredit(amount, fee, invoice) if amount > 0 else None


def create_from_termination(
    standin: Standin, sub: dict[str, Any], at: datetime, *, refund: bool, upgrade: bool
) -> dict[str, Any] | None:
    """Issue the credit note for the unused days (see `termination_credit`)."""
    found = termination_credit(standin, sub, at, upgrade=upgrade)
    if found is None:
        return None
    amount, fee, invoice = found.amount_cents, found.fee, found.invoice
    tz = zone(subscriptions.tz_of(standin, sub))
    paid = invoice["payment_status"] == "succeeded"
    refund_amount = amount if refund and paid else 0
    credit_amount = amount - refund_amount
    count = len(standin.store.all(KIND, where=lambda n: n["invoice_id"] == invoice["id"]))
    note = standin.store.insert(
        KIND,
        {
            "invoice_id": invoice["id"],
            "customer_id": invoice["customer_id"],
            "sequential_id": standin.store.next_value(
                f"credit_note_sequential_id:{invoice['customer_id']}"
            ),
            "number": f"{invoice['number']}-CN{count + 1}",
            "issuing_date": local_date(at, tz).isoformat(),
            "credit_status": "available" if credit_amount else "consumed",
            "refund_status": "pending" if refund_amount else None,
            "reason": "order_change" if upgrade else "order_cancellation",
            "description": None,
            "currency": invoice["currency"],
            "total_amount_cents": amount,
            "credit_amount_cents": credit_amount,
            "balance_amount_cents": credit_amount,
            "refund_amount_cents": refund_amount,
            "items": [{"id": new_id(), "amount_cents": amount, "fee": fee}],
        },
    )
    standin.webhooks.emit("credit_note.created", serialize(standin, note))
    return note


def available_for(standin: Standin, customer_id: str, currency: str) -> list[dict[str, Any]]:
    """The customer's credit notes with credit left in this currency, oldest first."""
    return standin.store.all(
        KIND,
        newest_first=False,
        where=lambda n: (
            n["customer_id"] == customer_id
            and n["credit_status"] == "available"
            and n["balance_amount_cents"] > 0
            and n["currency"] == currency
        ),
    )


def apply_to_invoice(standin: Standin, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """Use the customer's available credit notes on an invoice (oldest first)."""
    remaining = invoice["fees_amount_cents"] - invoice.get("coupons_amount_cents", 0)
    credits = []
    available = available_for(standin, invoice["customer_id"], invoice["currency"])
    for note in available:
        if remaining <= 0:
            break
        used = min(note["balance_amount_cents"], remaining)
        remaining -= used
        note["balance_amount_cents"] -= used
        if note["balance_amount_cents"] == 0:
            note["credit_status"] = "consumed"
        standin.store.save(KIND, note)
        credits.append(
            {
                "lago_id": new_id(),
                "amount_cents": used,
                "amount_currency": invoice["currency"],
                "before_taxes": False,
                "item": {
                    "lago_item_id": note["id"],
                    "type": "credit_note",
                    "code": note["number"],
                    "name": note["number"],
                },
            }
        )
    return credits


def recredit(standin: Standin, invoice: dict[str, Any]) -> None:
    """CreditNotes::RecreditService: a voided invoice gives back the credit it used."""
    for credit in invoice.get("credits", []):
        note = standin.store.get(KIND, credit["item"]["lago_item_id"])
        if note is None:
            continue
        note["balance_amount_cents"] += credit["amount_cents"]
        note["credit_status"] = "available"
        standin.store.save(KIND, note)


def get_or_404(standin: Standin, lago_id: str) -> dict[str, Any]:
    """The credit note with this id, or 404 credit_note_not_found."""
    note = standin.store.get(KIND, lago_id)
    if note is None:
        raise errors.not_found("credit_note")
    return note


@register_object("credit_note")
def _find_for_trigger(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    note = standin.store.get(KIND, identifier)
    if note is None:
        found = standin.store.all(KIND, where=lambda n: n["invoice_id"] == identifier)
        note = found[0] if found else None
    return serialize(standin, note) if note else None


@bp.get("/credit_notes")
def list_credit_notes():
    standin = current()
    args = request.args
    found = standin.store.all(KIND)
    if args.get("external_customer_id"):
        customer = customers.find(standin, args["external_customer_id"])
        found = [n for n in found if customer is not None and n["customer_id"] == customer["id"]]
    for name in ("reason", "credit_status", "refund_status", "currency"):
        if args.get(name):
            found = [n for n in found if n.get(name) == args[name]]
    if args.get("invoice_number"):
        found = [n for n in found if n["number"].startswith(args["invoice_number"] + "-CN")]
    return jsonify(
        pagination.collection("credit_notes", found, lambda n: serialize(standin, n), request.args)
    )


@bp.get("/credit_notes/<lago_id>")
def get_credit_note(lago_id: str):
    standin = current()
    return jsonify(credit_note=serialize(standin, get_or_404(standin, lago_id)))
