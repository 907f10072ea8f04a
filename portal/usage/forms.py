"""The usage alert form: a metric of the plan (or the whole amount) and the target."""

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectChoice, SelectField
from wtforms.validators import DataRequired, NumberRange

AMOUNT = ""


class AlertForm(FlaskForm):
    """Tell me when this metric (or the whole amount) reaches X."""

    metric = SelectField(
        "Watch", choices=[SelectChoice(AMOUNT, "The usage amount")], validate_choice=True
    )
    target = DecimalField(
        "Reaches",
        places=2,
        validators=[
            DataRequired(message="Enter the number to watch for."),
            NumberRange(
                min=Decimal("0.01"),
                max=Decimal(10) ** 12,
                message="Enter a number above zero.",
            ),
        ],
    )
