"""Invitation form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length

from portal.models import Role
from portal.validation import Email


class InviteForm(FlaskForm):
    """Invite someone by email with a role."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254), Email()])
    role = SelectField(
        "Role",
        choices=[SelectChoice(r.value, r.label) for r in Role],
        default=Role.member.value,
        validators=[DataRequired()],
    )
