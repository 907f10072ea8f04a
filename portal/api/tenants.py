"""Tenants: create, get, list (keyset pages), update, invite the first owner."""

from __future__ import annotations

from flask import current_app, request, url_for

from portal.api import bp, services
from portal.api.inputs import Fields, json_object, page_size
from portal.api.replies import ApiError
from portal.billing.customers import sync_after_commit
from portal.extensions import db
from portal.lago.zones import COUNTRIES
from portal.mail import send_mail
from portal.models import Tenant
from portal.team.services import NotAllowed

FIELDS = {"name", "billing_email", "timezone", "currency", "country", "metadata"}


def iso(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def tenant_json(tenant: Tenant) -> dict:
    return {
        "id": tenant.external_id,
        "name": tenant.name,
        "billing_email": tenant.billing_email,
        "timezone": tenant.timezone,
        "currency": tenant.currency,
        "country": tenant.country,
        "metadata": tenant.custom_metadata or {},
        "lago": {
            "sync_state": tenant.sync_state.value,
            "customer_id": tenant.lago_customer_id,
            "last_error": tenant.sync_last_error,
            "synced_at": iso(tenant.synced_at),
        },
        "created_at": iso(tenant.created_at),
        "updated_at": iso(tenant.updated_at),
    }


def find_tenant(external_id: str) -> Tenant:
    tenant = services.by_external_id(external_id)
    if tenant is None:
        raise ApiError(404, "tenant_not_found", f"There is no tenant {external_id}.")
    return tenant


def _read_tenant(body: dict, *, creating: bool) -> dict:
    fields = Fields(body, FIELDS)
    values = {
        "name": fields.text("name", required=creating, max_length=120),
        "billing_email": fields.email("billing_email"),
        "timezone": fields.timezone("timezone"),
        "currency": fields.currency("currency"),
        "country": fields.text("country", max_length=2),
        "custom_metadata": fields.metadata("metadata"),
    }
    if values["country"] is not None and values["country"] not in COUNTRIES:
        fields.add("country", "must be an ISO 3166 alpha-2 code in capitals")
    if not creating:
        if fields.present("name") and values["name"] is None and "name" not in fields.problems:
            fields.add("name", "must not be blank")
        values = {
            key: value
            for key, value in values.items()
            if fields.present("metadata" if key == "custom_metadata" else key)
        }
        values = {k: v for k, v in values.items() if k != "name" or v is not None}
    fields.done()
    return values


def _created(tenant: Tenant, status: int = 200):
    return {"tenant": tenant_json(tenant)}, status


@bp.post("/tenants")
def create_tenant():
    """Create an organisation; its Lago customer follows."""
    tenant = services.create_tenant(_read_tenant(json_object(), creating=True))
    db.session.commit()
    sync_after_commit(tenant.id)
    location = url_for("api.get_tenant", external_id=tenant.external_id)
    body, _ = _created(tenant)
    return body, 201, {"Location": location}


@bp.get("/tenants")
def list_tenants():
    """Tenants in creation order, `limit` at a time, after the `after` cursor."""
    limit = page_size()
    after = request.args.get("after") or None
    cursor = services.by_external_id(after) if after else None
    if after and cursor is None:
        raise ApiError(422, details={"after": ["is not a tenant id from a previous page"]})
    rows, more = services.tenant_page(cursor, limit)
    return {
        "data": [tenant_json(t) for t in rows],
        "next_cursor": rows[-1].external_id if more else None,
    }


@bp.get("/tenants/<external_id>")
def get_tenant(external_id: str):
    return _created(find_tenant(external_id))


@bp.patch("/tenants/<external_id>")
def update_tenant(external_id: str):
    """Change some fields; the Lago customer is written again."""
    tenant = find_tenant(external_id)
    values = _read_tenant(json_object(), creating=False)
    changed = services.update_tenant(tenant, values)
    db.session.commit()
    if changed:
        sync_after_commit(tenant.id)
    return _created(tenant)


@bp.post("/tenants/<external_id>/owner-invitations")
def invite_owner(external_id: str):
    """Invite the first (or another) owner by email; the link is emailed and returned."""
    tenant = find_tenant(external_id)
    fields = Fields(json_object(), {"email"})
    email = fields.email("email", required=True)
    fields.done()
    try:
        invitation, token = services.invite_owner(tenant, email)
    except NotAllowed as exc:
        raise ApiError(409, "already_member", str(exc)) from exc
    db.session.commit()
    link = current_app.config["PIER_BASE_URL"] + url_for("auth.invitation", token=token)
    emailed = send_mail(
        invitation.email,
        f"You are invited to {tenant.name} on Pier",
        "invitation",
        invitation=invitation,
        link=link,
    )
    return {
        "invitation": {
            "email": invitation.email,
            "role": invitation.role.value,
            "expires_at": iso(invitation.expires_at),
            "accept_url": link,
            "emailed": emailed,
        }
    }, 201
