"""The top-up form: how many credits to buy, with the operation's idempotency key."""

from decimal import Decimal

from wtforms import DecimalField
from wtforms.validators import DataRequired, NumberRange, ValidationError

from portal.subscription.forms import ActionForm

MAX_CREDITS = Decimal(1_000_000)


class CreditsForm(ActionForm):
    """A number of credits, at most two decimals."""

    credits = DecimalField(
        "Credits",
        places=2,
        validators=[
            DataRequired(message="Enter how many credits."),
            NumberRange(
                min=Decimal("0.01"),
                max=MAX_CREDITS,
                message="Enter a number of credits between 0.01 and 1,000,000.",
            ),
        ],
    )

    def validate_credits(self, field) -> None:
        if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
            raise ValidationError("Use at most two decimals.")
