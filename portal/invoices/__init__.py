"""The invoice centre: every invoice and credit note from the mirror, the lines of one invoice
from Lago, and its PDF through Pier."""

from flask import Blueprint

bp = Blueprint("invoices", __name__)

from portal.invoices import routes  # noqa: E402,F401
