"""Sign-up, log-in and invitation forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.validation import Email, Password, TimeZone, timezone_choices


class SignupForm(FlaskForm):
    """A new organisation and its owner."""

    organisation = StringField("Organisation name", validators=[DataRequired(), Length(2, 120)])
    name = StringField("Your name", validators=[DataRequired(), Length(1, 120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), Email()])
    password = PasswordField("Password", validators=[DataRequired(), Password("email")])
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
    )
    timezone = SelectField("Time zone", default="UTC", validators=[TimeZone()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Keep me signed in on this device")


class AcceptInviteForm(FlaskForm):
    """What a new member tells us when accepting an invitation."""

    name = StringField("Your name", validators=[DataRequired(), Length(1, 120)])
    password = PasswordField("Password", validators=[DataRequired(), Password()])
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
    )
    timezone = SelectField("Time zone", default="UTC", validators=[TimeZone()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class ConfirmForm(FlaskForm):
    """A button that only needs CSRF (accept, log out, revoke)."""
