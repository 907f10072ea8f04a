"""Forms of the subscription actions; each carries the idempotency key it was rendered with."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.operations.services import new_key

REASONS = [
    SelectChoice("", "Choose a reason (optional)"),
    SelectChoice("too_expensive", "It costs too much"),
    SelectChoice("missing_features", "It lacks something we need"),
    SelectChoice("not_using", "We do not use it enough"),
    SelectChoice("switching", "We are moving to another product"),
    SelectChoice("temporary", "We only needed it for a while"),
    SelectChoice("other", "Something else"),
]


class ActionForm(FlaskForm):
    """A button that changes billing: CSRF plus the key that makes a double click harmless."""

    key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)], default=new_key)


class CancelForm(ActionForm):
    """Cancel at the end of the period, or now, with an optional reason."""

    when = RadioField(
        "When",
        choices=[
            SelectChoice("period_end", "At the end of the current period"),
            SelectChoice("now", "Now"),
        ],
        default="period_end",
        validators=[DataRequired()],
    )
    reason = SelectField("Why are you leaving?", choices=REASONS, validators=[Optional()])
    details = TextAreaField("Anything else we should know?", validators=[Length(max=500)])
