"""Carry out an operation once: commit the record, claim it, call out, then settle.

This is the one place where a request commits between steps: the claim must be visible to a
concurrent request (a double click) before Lago or Stripe is called.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import request

from portal.billing.sentences import for_customer
from portal.extensions import db
from portal.lago import LagoError
from portal.lago.errors import LagoTimeout
from portal.models import Operation
from portal.operations import services
from portal.payments import PaymentError
from portal.payments.errors import Timeout as PaymentTimeout

SLOW = (
    "The billing system is slow to answer. Your change may still go through: "
    "this page shows the result as soon as it is known."
)


def execute(operation: Operation, send: Callable[[], None]) -> Operation:
    """Send the operation unless another request already did; the caller renders its state."""
    db.session.commit()
    if not services.claim(operation):
        db.session.commit()
        return services.settle(operation)
    db.session.commit()
    try:
        send()
    except (LagoTimeout, PaymentTimeout):
        db.session.rollback()
        operation.message = SLOW
    except LagoError as error:
        db.session.rollback()
        services.mark_failed(operation, for_customer(error), error.code)
    except PaymentError as error:
        db.session.rollback()
        services.mark_failed(operation, error.sentence, error.code)
    services.settle(operation)
    db.session.commit()
    return operation


def shown_operation(tenant_id: int) -> Operation | None:
    """The operation a page was sent back with (`?operation=`, this tenant's only), settled
    again so the page shows where it stands now."""
    wanted = request.args.get("operation", type=int)
    if wanted is None:
        return None
    operation = services.for_tenant(wanted, tenant_id)
    if operation is not None:
        services.settle(operation)
        db.session.commit()
    return operation
