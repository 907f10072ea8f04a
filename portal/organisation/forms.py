"""The organisation details form."""

from functools import cache

from babel import Locale
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.lago.zones import COUNTRIES
from portal.validation import Email, TimeZone, timezone_choices


@cache
def country_choices() -> list[SelectChoice]:
    """The countries Lago bills in, by English name."""
    territories = Locale("en").territories
    countries = sorted((name, code) for code, name in territories.items() if code in COUNTRIES)
    return [SelectChoice("", "—")] + [SelectChoice(code, name) for name, code in countries]


class OrganisationForm(FlaskForm):
    """What Lago needs to bill the organisation."""

    name = StringField("Organisation name", validators=[DataRequired(), Length(2, 120)])
    billing_email = EmailField(
        "Billing email", validators=[DataRequired(), Length(max=254), Email()]
    )
    address_line1 = StringField("Address", validators=[Optional(), Length(max=255)])
    address_line2 = StringField("Address (line 2)", validators=[Optional(), Length(max=255)])
    city = StringField("City", validators=[Optional(), Length(max=120)])
    zipcode = StringField("Postal code", validators=[Optional(), Length(max=20)])
    state = StringField("State or region", validators=[Optional(), Length(max=120)])
    country = SelectField("Country", validators=[Optional()])
    tax_identification_number = StringField(
        "Tax ID (VAT number)", validators=[Optional(), Length(max=64)]
    )
    timezone = SelectField("Time zone", validators=[TimeZone()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        self.timezone.choices = timezone_choices(getattr(kwargs.get("obj"), "timezone", None))
