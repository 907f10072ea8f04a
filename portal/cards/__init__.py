"""Cards: list, add (Stripe Elements on a SetupIntent, 3-D Secure), set default, remove, and the
flow that gets a failed payment paid."""

from flask import Blueprint

bp = Blueprint("cards", __name__)


@bp.app_template_global("card_label")
def card_label(card) -> str:
    """The card in words: Visa ending 4242."""
    from portal.cards.services import label

    return label(card)


@bp.app_template_global("card_expiry")
def card_expiry(card, today) -> str | None:
    """ "expired", "expires soon", or None."""
    from portal.cards.services import expiry_state

    return expiry_state(card, today)


from portal.cards import routes  # noqa: E402,F401
