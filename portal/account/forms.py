"""Profile and password forms."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.validation import Email, Password, TimeZone, timezone_choices


class ProfileForm(FlaskForm):
    """Name, email and time zone."""

    name = StringField("Name", validators=[DataRequired(), Length(1, 120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), Email()])
    timezone = SelectField("Time zone", validators=[TimeZone()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices(getattr(kwargs.get("obj"), "timezone", None))


class PasswordForm(FlaskForm):
    """Change the password, proving the current one."""

    current = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])
    password = PasswordField("New password", validators=[DataRequired(), Password()])
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
    )
