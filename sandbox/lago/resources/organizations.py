"""The organization of the API key (`GET /organizations` is in lago-api, not in the spec)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..state import Standin, current

bp = Blueprint("organizations", __name__)


def serialize(standin: Standin, org: dict[str, Any]) -> dict[str, Any]:
    """The organization as V1::OrganizationSerializer renders it (no taxes on GET)."""
    urls = [e["webhook_url"] for e in standin.store.all("webhook_endpoint", newest_first=False)]
    return {
        "lago_id": org["id"],
        "name": org["name"],
        "default_currency": org["default_currency"],
        "created_at": org["created_at"],
        "webhook_url": urls[0] if urls else "",
        "webhook_urls": urls,
        "country": org.get("country"),
        "address_line1": org.get("address_line1"),
        "address_line2": org.get("address_line2"),
        "state": org.get("state"),
        "zipcode": org.get("zipcode"),
        "email": org.get("email"),
        "city": org.get("city"),
        "legal_name": org.get("legal_name"),
        "legal_number": org.get("legal_number"),
        "timezone": org["timezone"],
        "net_payment_term": org.get("net_payment_term", 0),
        "email_settings": org.get("email_settings", []),
        "document_numbering": org.get("document_numbering", "per_customer"),
        "document_number_prefix": org["document_number_prefix"],
        "tax_identification_number": org.get("tax_identification_number"),
        "finalize_zero_amount_invoice": org.get("finalize_zero_amount_invoice", True),
        "billing_configuration": {
            "invoice_footer": org.get("invoice_footer"),
            "invoice_grace_period": org.get("invoice_grace_period", 0),
            "document_locale": org.get("document_locale", "en"),
        },
        "events_store": org.get("events_store", "postgres"),
    }


@bp.get("/organizations")
def get_organization():
    standin = current()
    return jsonify(organization=serialize(standin, standin.org()))
