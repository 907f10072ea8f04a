"""Field validators shared by the forms: email, time zone, password, names."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from wtforms import SelectChoice, ValidationError

from portal.lago.zones import zone_links

PASSWORD_MIN = 10
PASSWORD_MAX = 128


def normalise_email(value: str) -> str:
    """The canonical form of an email address, or ValueError with a readable reason."""
    try:
        result = validate_email((value or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return result.normalized


@cache
def timezone_names() -> tuple[str, ...]:
    """Every canonical IANA time zone name, sorted, without legacy aliases."""
    links = zone_links()
    names = {
        n
        for n in available_timezones()
        if "/" in n and not n.startswith(("Etc/", "SystemV/")) and n not in links
    }
    names.add("UTC")
    return tuple(sorted(names))


def is_timezone(name: str | None) -> bool:
    """Any IANA name, aliases included, so values stored earlier stay valid."""
    return bool(name) and (name == "UTC" or name in available_timezones())


def timezone_choices(current: str | None = None) -> list[SelectChoice]:
    """Choices for a time zone select (plus the current value when it is a legacy alias)."""
    names = list(timezone_names())
    if current and current not in names and is_timezone(current):
        names.append(current)
    return [SelectChoice(name, name.replace("_", " ")) for name in sorted(names)]


class Email:
    """A well-formed email address; the field's data is replaced by its normal form."""

    def __call__(self, form, field):
        try:
            field.data = normalise_email(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class TimeZone:
    """A time zone from the IANA list."""

    def __call__(self, form, field):
        if not field.data or not is_timezone(field.data):
            raise ValidationError("Choose a time zone from the list.")


def password_problem(value: str, email: str | None = None) -> str | None:
    """Why a password is refused, or None when it is acceptable."""
    value = value or ""
    if len(value) < PASSWORD_MIN:
        return f"Use at least {PASSWORD_MIN} characters."
    if len(value) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    if len(set(value)) < 4:
        return "Use a less repetitive password."
    if email and value.lower() in (email.lower(), email.split("@")[0].lower()):
        return "Your password must not be your email address."
    return None


class Password:
    """A password long enough and not trivially guessable."""

    def __init__(self, email_field: str | None = None):
        self.email_field = email_field

    def __call__(self, form, field):
        email = getattr(form, self.email_field).data if self.email_field else None
        problem = password_problem(field.data, email)
        if problem:
            raise ValidationError(problem)
