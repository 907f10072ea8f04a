"""Operations: record a customer's action, send it once, and follow it until confirmed."""

from flask import Blueprint

bp = Blueprint("operations", __name__)


@bp.app_template_global("operation_key")
def operation_key() -> str:
    """A fresh idempotency key for an action form."""
    from portal.operations.services import new_key

    return new_key()


from portal.operations import routes  # noqa: E402,F401
