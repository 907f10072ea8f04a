"""The status of one operation: a page, and its block that htmx polls until it settles."""

from __future__ import annotations

from flask import abort, g

from portal.access import member_required
from portal.extensions import db
from portal.htmx import render_page
from portal.operations import bp, services


@bp.route("/<int:operation_id>")
@member_required
def status(operation_id: int):
    """Where the operation stands; polled by its own block until confirmed or failed."""
    operation = services.for_tenant(operation_id, g.tenant.id)
    if operation is None:
        abort(404)
    services.settle(operation)
    db.session.commit()
    response = render_page(
        "operations/status.html",
        fragments={"operation-status"},
        operation=operation,
        overdue=services.overdue(operation),
    )
    if operation.state.finished:
        # Blocks that show billing state (the billing home's summary) reload themselves.
        response.headers["HX-Trigger"] = "billing-changed"
    return response
