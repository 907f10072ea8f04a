"""How many credits to buy (customers) or grant (admins)."""

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DecimalField
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError

from portal.subscription.forms import ActionForm

MAX_CREDITS = Decimal(1_000_000)


def _two_decimals(_form, field) -> None:
    if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError("Use at most two decimals.")


def credits_field() -> DecimalField:
    """A number of credits between 0.01 and 1,000,000, at most two decimals."""
    return DecimalField(
        "Credits",
        places=2,
        validators=[
            DataRequired(message="Enter how many credits."),
            NumberRange(
                min=Decimal("0.01"),
                max=MAX_CREDITS,
                message="Enter a number of credits between 0.01 and 1,000,000.",
            ),
            _two_decimals,
        ],
    )


class CreditsForm(ActionForm):
    """A customer's top-up, with the operation's idempotency key."""

    credits = credits_field()


class LowCreditsForm(FlaskForm):
    """The level under which the billing contacts hear that credits are running low; left
    empty, no warning."""

    level = DecimalField(
        "Tell me when my credits fall below",
        places=2,
        validators=[
            Optional(),
            NumberRange(
                min=Decimal("0.01"),
                max=MAX_CREDITS,
                message="Enter a number of credits between 0.01 and 1,000,000, or leave it empty.",
            ),
            _two_decimals,
        ],
    )
