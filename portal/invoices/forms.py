"""The invoice list's filters, read from the URL (so a filtered page can be bookmarked)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.invoices.listing import Cursor, Filters, Standing

MAX_AMOUNT = Decimal(10) ** 12  # well past any invoice, well inside a BigInteger of cents


class InvoiceFilterForm(FlaskForm):
    """status, issued from/to (ISO days), amount from/to (in the currency's units), number."""

    class Meta:
        csrf = False  # a GET form: it changes nothing

    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")]
        + [SelectChoice(s.value, s.label) for s in Standing],
        validators=[Optional()],
        validate_choice=False,
    )
    issued_from = StringField("Issued from", render_kw={"type": "date"})
    issued_to = StringField("Issued to", render_kw={"type": "date"})
    amount_from = StringField("Amount from", render_kw={"inputmode": "decimal"})
    amount_to = StringField("Amount to", render_kw={"inputmode": "decimal"})
    number = SearchField("Invoice number", validators=[Length(max=64)])
    after = StringField()

    def __init__(self, args, currency: str) -> None:
        super().__init__(formdata=args)
        self.currency = currency
        self.filters = Filters()
        self.cursor: Cursor | None = None

    def read(self) -> bool:
        """Check every field; on success `filters` and `cursor` hold what was asked."""
        ok = self.validate()
        status = self.status.data or ""
        if status and status not in Standing.__members__:
            self.status.errors = ["Choose a status from the list."]
            ok = False
        issued_from = self._day(self.issued_from)
        issued_to = self._day(self.issued_to)
        if issued_from and issued_to and issued_from > issued_to:
            self.issued_to.errors = ["The end date must not be before the start date."]
            ok = False
        amount_from = self._cents(self.amount_from)
        amount_to = self._cents(self.amount_to)
        if amount_from is not None and amount_to is not None and amount_from > amount_to:
            self.amount_to.errors = ["The highest amount must not be below the lowest."]
            ok = False
        ok = self._read_cursor() and ok
        if not ok or any(f.errors for f in self):
            return False
        self.filters = Filters(
            standings=(Standing(status),) if status else (),
            issued_from=issued_from,
            issued_to=issued_to,
            amount_from_cents=amount_from,
            amount_to_cents=amount_to,
            number=(self.number.data or "").strip(),
        )
        return True

    def _day(self, field) -> date | None:
        raw = (field.data or "").strip()
        if not raw:
            return None
        try:
            if len(raw) != 10:
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            field.errors = ["Enter a date as YYYY-MM-DD, for example 2025-03-31."]
            return None

    def _cents(self, field) -> int | None:
        raw = (field.data or "").strip().replace(",", "")
        if not raw:
            return None
        places = get_currency_precision(self.currency)
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            field.errors = ["Enter an amount, for example 49.90."]
            return None
        if amount < 0 or amount >= MAX_AMOUNT:
            field.errors = ["Enter an amount of zero or more."]
            return None
        cents = amount.scaleb(places)
        if cents != cents.to_integral_value():
            field.errors = [f"Use at most {places} decimal places."]
            return None
        return int(cents)

    def _read_cursor(self) -> bool:
        raw = (self.after.data or "").strip()
        if not raw:
            return True
        try:
            self.cursor = Cursor.parse(raw)
        except ValueError:
            self.after.errors = ["This page link is not valid any more; start from the newest."]
            return False
        return True

    def query_args(self, **changes) -> dict[str, str]:
        """The filters as URL arguments (empty ones left out), with `changes` applied."""
        args = {
            name: (getattr(self, name).data or "").strip()
            for name in ("status", "issued_from", "issued_to", "amount_from", "amount_to", "number")
        }
        args.update(changes)
        return {k: v for k, v in args.items() if v}
