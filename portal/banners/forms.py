"""The dismiss button of a banner."""

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from portal.banners.services import KINDS, MAX_STATE


class DismissForm(FlaskForm):
    """Which banner, in which state, and the page to go back to."""

    kind = HiddenField(validators=[DataRequired(), AnyOf(KINDS)])
    state = HiddenField(validators=[DataRequired(), Length(max=MAX_STATE)])
    next = HiddenField(validators=[Optional(), Length(max=2000)])
