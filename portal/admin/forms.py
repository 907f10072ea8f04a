"""Admin forms: the Lago connection, behaviour settings, plans."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from portal.lago.webhook_key import UnreadableKey, read_public_key
from portal.models import Provider, WebhookAlgorithm
from portal.wallet.forms import credits_field

CURRENCY = Regexp(r"^[A-Z]{3}$", message="Use a three-letter currency code such as USD or EUR.")


class HttpURL:
    """An http(s) URL with a host."""

    def __call__(self, form, field):
        parts = urlsplit((field.data or "").strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError("Enter a full address starting with https:// or http://.")
        field.data = field.data.strip()


class ConnectionForm(FlaskForm):
    """Where Lago is, its API key and how its webhooks are signed."""

    provider = RadioField(
        "Billing provider",
        choices=[SelectChoice(p.value, p.label) for p in Provider],
        default=Provider.lago_self_hosted.value,
    )
    api_url = StringField("API URL", validators=[DataRequired(), Length(max=500), HttpURL()])
    # No Optional(): it would stop the chain before validate_api_key and validate_hmac_key.
    api_key = PasswordField("API key", validators=[Length(max=200)])
    webhook_algorithm = RadioField(
        "Webhook signature",
        choices=[
            SelectChoice(WebhookAlgorithm.jwt.value, "JWT (RS256, Lago's public key)"),
            SelectChoice(WebhookAlgorithm.hmac.value, "HMAC (the organisation's HMAC key)"),
        ],
        default=WebhookAlgorithm.jwt.value,
    )
    hmac_key = PasswordField("HMAC key", validators=[Length(max=200)])
    public_key = TextAreaField("Public key (optional)", validators=[Optional(), Length(max=10_000)])
    issuer = StringField("Expected issuer", validators=[Optional(), Length(max=500), HttpURL()])

    def __init__(self, *args, has_saved_key: bool = False, has_saved_hmac: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_saved_key = has_saved_key
        self.has_saved_hmac = has_saved_hmac

    def validate_api_key(self, field):
        if not field.data and not self.has_saved_key:
            raise ValidationError("Paste the API key from Lago › Developers › API keys.")

    def validate_hmac_key(self, field):
        if self.webhook_algorithm.data == "hmac" and not field.data and not self.has_saved_hmac:
            raise ValidationError("Paste the HMAC key from Lago › Developers › Webhooks.")

    def validate_public_key(self, field):
        if field.data and field.data.strip():
            try:
                field.data = read_public_key(field.data)
            except UnreadableKey as exc:
                raise ValidationError(str(exc)) from exc


class TrustIssuerForm(FlaskForm):
    """Trust the issuer that Lago's webhooks signed with the saved key carry."""

    issuer = HiddenField(validators=[DataRequired(), Length(max=500)])


class BehaviourForm(FlaskForm):
    """How Pier uses Lago."""

    default_currency = StringField("Default currency", validators=[DataRequired(), CURRENCY])
    default_trial_days = IntegerField(
        "Default trial (days)", validators=[NumberRange(0, 365)], default=0
    )
    auto_create_customers = BooleanField("Create a Lago customer for every new organisation")
    default_plan_code = SelectField(
        "Assign this plan to new organisations", validators=[Optional()]
    )
    sync_plans_to_lago = BooleanField("Plans created in Pier are created in Lago")
    lago_sends_invoice_emails = BooleanField("Lago emails invoices to customers")
    overage_enabled = BooleanField("Allow usage beyond plan limits (overage)")
    trial_reminder_days = IntegerField(
        "Remind customers this many days before a trial ends",
        validators=[NumberRange(1, 30)],
        default=3,
    )
    suspension_grace_days = IntegerField(
        "Suspend an account this many days after an invoice becomes overdue",
        validators=[NumberRange(1, 120)],
        default=14,
    )

    termination_credit_note = SelectField(
        "When a customer cancels a plan paid in advance, the unused days are",
        choices=[
            SelectChoice("credit", "credited to their next invoice"),
            SelectChoice("refund", "refunded to their card"),
            SelectChoice("offset", "offset against what they still owe"),
            SelectChoice("skip", "kept (no credit note)"),
        ],
        default="credit",
    )
    termination_invoice = SelectField(
        "When a subscription ends, the usage not yet billed is",
        choices=[
            SelectChoice("generate", "invoiced at once"),
            SelectChoice("skip", "not invoiced"),
        ],
        default="generate",
    )


class PlanForm(FlaskForm):
    """What Pier keeps about a plan."""

    display_name = StringField("Display name", validators=[Optional(), Length(max=120)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    features = TextAreaField(
        "Feature bullets (one per line)", validators=[Optional(), Length(max=4000)]
    )
    position = IntegerField("Order", validators=[NumberRange(0, 10_000)], default=0)
    visible = BooleanField("Shown to customers")
    highlighted = BooleanField("Highlighted")
    switch_targets = SelectMultipleField("Customers on this plan may switch to", coerce=int)


class NewPlanForm(FlaskForm):
    """A plan created in Pier and pushed to Lago."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    code = StringField(
        "Code",
        validators=[
            DataRequired(),
            Length(max=100),
            Regexp(r"^[a-z0-9_\-]+$", message="Use lower-case letters, digits, - and _."),
        ],
    )
    interval = SelectField(
        "Interval",
        choices=[
            SelectChoice(v, v.capitalize()) for v in ("monthly", "yearly", "quarterly", "weekly")
        ],
    )
    amount = StringField(
        "Price",
        validators=[
            DataRequired(),
            Regexp(r"^\d{1,9}(\.\d{1,2})?$", message="Enter a price like 49 or 49.90."),
        ],
    )
    currency = StringField("Currency", validators=[DataRequired(), CURRENCY], default="USD")
    trial_days = IntegerField("Trial (days)", validators=[NumberRange(0, 365)], default=0)
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])


class StripeSettingsForm(FlaskForm):
    """Stripe's keys for cards (secrets blank: keep the saved ones)."""

    secret_key = PasswordField(
        "Secret key",
        validators=[
            Optional(),
            Regexp(
                r"^(sk|rk)_(test|live)_\S+$",
                message="A secret key starts with sk_test_ or sk_live_.",
            ),
        ],
    )
    publishable_key = StringField(
        "Publishable key",
        validators=[
            DataRequired(),
            Regexp(
                r"^pk_(test|live)_\S+$",
                message="A publishable key starts with pk_test_ or pk_live_.",
            ),
        ],
    )
    webhook_secrets = PasswordField(
        "Webhook signing secrets",
        validators=[
            Optional(),
            Regexp(
                r"^\s*whsec_\S+(\s*,\s*whsec_\S+)*\s*$",
                message="Signing secrets start with whsec_; separate two with a comma.",
            ),
        ],
    )
    provider_code = StringField(
        "Lago's Stripe integration code",
        validators=[DataRequired(), Length(max=120)],
        default="stripe",
    )
    api_base = StringField("Stripe API URL", validators=[Optional(), HttpURL()])
    js_url = StringField("Stripe.js URL", validators=[Optional(), HttpURL()])


class ApiTokenForm(FlaskForm):
    """A new API token: a name and its scopes."""

    name = StringField(
        "Name",
        validators=[DataRequired(message="Give the token a name."), Length(max=80)],
        description="Who or what uses it, e.g. “backend production”.",
    )
    scopes = SelectMultipleField(
        "Scopes",
        choices=[SelectChoice("read", "Read"), SelectChoice("write", "Write (also reads)")],
        default=["read"],
        validators=[DataRequired(message="Choose at least one scope.")],
    )


class GrantCreditsForm(FlaskForm):
    """Free credits for a tenant, with the reason kept in the audit log."""

    credits = credits_field()
    reason = StringField("Reason", validators=[DataRequired(), Length(max=120)])


class ApplyCouponForm(FlaskForm):
    """One of Lago's coupons to apply to a tenant (the choices are Lago's active coupons)."""

    coupon = SelectField(
        "Coupon",
        choices=[],
        validate_choice=True,
        validators=[DataRequired(message="Choose a coupon.")],
    )

    def offer(self, coupons) -> ApplyCouponForm:
        """Offer these coupons, each described by its terms."""
        self.coupon.choices = [("", "Choose a coupon")] + [
            (c.code, f"{c.name} ({c.code})") for c in coupons
        ]
        return self
