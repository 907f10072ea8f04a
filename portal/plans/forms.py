"""The confirm form of a plan change or start."""

from wtforms import RadioField, SelectChoice
from wtforms.validators import Optional

from portal.subscription.forms import ActionForm


class ChangeForm(ActionForm):
    """Confirm a change; when a cancellation is scheduled, keep or clear it."""

    cancellation = RadioField(
        "Your subscription is set to end",
        choices=[
            SelectChoice("keep", "Keep the cancellation: the new plan ends on the same day"),
            SelectChoice("clear", "Clear it: the new plan continues after that day"),
        ],
        default="keep",
        validators=[Optional()],
    )
