"""Small, frozen views of Lago objects; amounts stay integer cents, times are aware UTC."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from portal.lago._convert import (
    mapping,
    objects,
    strings,
    to_bool,
    to_cents,
    to_cents_or_none,
    to_date,
    to_datetime,
    to_decimal,
    to_str,
)

T = TypeVar("T")
Json = Mapping[str, Any]


def _raw() -> Any:
    return field(default_factory=dict, repr=False, compare=False)


def _dict() -> Any:
    return field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class Health:
    """What `GET /health` says about a Lago instance."""

    version: str | None
    message: str | None = None
    github_url: str | None = None
    raw: dict[str, Any] = _raw()

    @property
    def ok(self) -> bool:
        """True when Lago reports itself healthy."""
        return self.message == "Success"

    @classmethod
    def from_api(cls, data: Json) -> Health:
        """Build from the `/health` body."""
        return cls(
            version=to_str(data.get("version")),
            message=to_str(data.get("message")),
            github_url=to_str(data.get("github_url")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Organization:
    """The Lago organization that owns the API key."""

    lago_id: str
    name: str
    default_currency: str | None = None
    country: str | None = None
    timezone: str | None = None
    email: str | None = None
    legal_name: str | None = None
    net_payment_term: int | None = None
    document_locale: str | None = None
    webhook_urls: tuple[str, ...] = ()
    created_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> Organization:
        """Build from the `organization` object."""
        billing = mapping(data.get("billing_configuration"))
        return cls(
            lago_id=str(data["lago_id"]),
            name=str(data.get("name") or ""),
            default_currency=to_str(data.get("default_currency")),
            country=to_str(data.get("country")),
            timezone=to_str(data.get("timezone")),
            email=to_str(data.get("email")),
            legal_name=to_str(data.get("legal_name")),
            net_payment_term=data.get("net_payment_term"),
            document_locale=to_str(billing.get("document_locale")),
            webhook_urls=strings(data.get("webhook_urls")),
            created_at=to_datetime(data.get("created_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class MrrPoint:
    """Monthly recurring revenue of one month (`GET /analytics/mrr`)."""

    month: datetime | None
    amount_cents: int | None  # Lago sends null for a month without revenue in that currency
    currency: str | None

    @classmethod
    def from_api(cls, data: Json) -> MrrPoint:
        """Build from one `mrrs` item."""
        return cls(
            month=to_datetime(data.get("month")),
            amount_cents=to_cents_or_none(data.get("amount_cents")),
            currency=to_str(data.get("currency")),
        )


@dataclass(frozen=True, slots=True)
class OverdueBalance:
    """What overdue invoices of one due month still owe in one currency
    (`GET /analytics/overdue_balance`)."""

    month: datetime | None
    amount_cents: int
    currency: str | None
    lago_invoice_ids: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: Json) -> OverdueBalance:
        """Build from one `overdue_balances` item."""
        return cls(
            month=to_datetime(data.get("month")),
            amount_cents=to_cents_or_none(data.get("amount_cents")) or 0,
            currency=to_str(data.get("currency")),
            lago_invoice_ids=strings(data.get("lago_invoice_ids")),
        )


@dataclass(frozen=True, slots=True)
class MetricFilter:
    """A billable-metric filter: an event property and its allowed values."""

    key: str
    values: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: Json) -> MetricFilter:
        """Build from a `filters[]` item."""
        return cls(key=str(data["key"]), values=strings(data.get("values")))


@dataclass(frozen=True, slots=True)
class BillableMetric:
    """What usage is counted and how it is aggregated."""

    lago_id: str
    code: str
    name: str
    aggregation_type: str
    description: str | None = None
    field_name: str | None = None
    recurring: bool = False
    filters: tuple[MetricFilter, ...] = ()
    created_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> BillableMetric:
        """Build from a `billable_metric` object."""
        return cls(
            lago_id=str(data["lago_id"]),
            code=str(data["code"]),
            name=str(data.get("name") or data["code"]),
            aggregation_type=str(data.get("aggregation_type") or ""),
            description=to_str(data.get("description")),
            field_name=to_str(data.get("field_name")),
            recurring=to_bool(data.get("recurring")),
            filters=tuple(MetricFilter.from_api(f) for f in objects(data.get("filters"))),
            created_at=to_datetime(data.get("created_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Charge:
    """A usage-based price attached to a plan."""

    lago_id: str
    billable_metric_code: str
    charge_model: str
    lago_billable_metric_id: str | None = None
    code: str | None = None
    invoice_display_name: str | None = None
    pay_in_advance: bool = False
    invoiceable: bool = True
    prorated: bool = False
    min_amount_cents: int = 0
    properties: dict[str, Any] = _dict()
    filters: tuple[dict[str, Any], ...] = field(default=(), hash=False)
    created_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> Charge:
        """Build from a `charges[]` item of a plan."""
        return cls(
            lago_id=str(data["lago_id"]),
            billable_metric_code=str(data.get("billable_metric_code") or ""),
            charge_model=str(data.get("charge_model") or ""),
            lago_billable_metric_id=to_str(data.get("lago_billable_metric_id")),
            code=to_str(data.get("code")),
            invoice_display_name=to_str(data.get("invoice_display_name")),
            pay_in_advance=to_bool(data.get("pay_in_advance")),
            invoiceable=data.get("invoiceable") is not False,
            prorated=to_bool(data.get("prorated")),
            min_amount_cents=to_cents(data.get("min_amount_cents") or 0),
            properties=mapping(data.get("properties")),
            filters=tuple(dict(f) for f in objects(data.get("filters"))),
            created_at=to_datetime(data.get("created_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Privilege:
    """One privilege of a feature as a plan grants it: its value, typed by `value_type`."""

    code: str
    name: str | None
    value_type: str
    value: Any

    @classmethod
    def from_api(cls, data: Json) -> Privilege:
        """Build from a `privileges[]` item of a plan entitlement."""
        return cls(
            code=str(data["code"]),
            name=to_str(data.get("name")),
            value_type=str(data.get("value_type") or "string"),
            value=data.get("value"),
        )


@dataclass(frozen=True, slots=True)
class PlanEntitlement:
    """A feature a plan grants (Lago's plan entitlement), with its privileges' values."""

    code: str
    name: str | None = None
    description: str | None = None
    privileges: tuple[Privilege, ...] = ()

    @classmethod
    def from_api(cls, data: Json) -> PlanEntitlement:
        """Build from an `entitlements[]` item of a plan (also when wrapped, as the spec has it)."""
        data = mapping(data.get("entitlement")) or data
        return cls(
            code=str(data["code"]),
            name=to_str(data.get("name")),
            description=to_str(data.get("description")),
            privileges=tuple(Privilege.from_api(p) for p in objects(data.get("privileges"))),
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """A price list: a base fee per interval, usage charges and an optional trial."""

    lago_id: str
    code: str
    name: str
    interval: str
    amount_cents: int
    amount_currency: str
    pay_in_advance: bool = False
    trial_period_days: float = 0.0
    description: str | None = None
    invoice_display_name: str | None = None
    bill_charges_monthly: bool | None = None
    minimum_commitment_cents: int | None = None
    charges: tuple[Charge, ...] = ()
    entitlements: tuple[PlanEntitlement, ...] = ()
    created_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @property
    def has_trial(self) -> bool:
        """True when new subscriptions start with free days."""
        return self.trial_period_days > 0

    @classmethod
    def from_api(cls, data: Json) -> Plan:
        """Build from a `plan` object."""
        commitment = mapping(data.get("minimum_commitment"))
        return cls(
            lago_id=str(data["lago_id"]),
            code=str(data["code"]),
            name=str(data.get("name") or data["code"]),
            interval=str(data.get("interval") or ""),
            amount_cents=to_cents(data.get("amount_cents") or 0),
            amount_currency=str(data.get("amount_currency") or ""),
            pay_in_advance=to_bool(data.get("pay_in_advance")),
            trial_period_days=float(data.get("trial_period") or 0),
            description=to_str(data.get("description")),
            invoice_display_name=to_str(data.get("invoice_display_name")),
            bill_charges_monthly=data.get("bill_charges_monthly"),
            minimum_commitment_cents=to_cents_or_none(commitment.get("amount_cents")),
            charges=tuple(Charge.from_api(c) for c in objects(data.get("charges"))),
            entitlements=tuple(
                PlanEntitlement.from_api(e) for e in objects(data.get("entitlements"))
            ),
            created_at=to_datetime(data.get("created_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address as Lago stores it."""

    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    state: str | None = None
    zipcode: str | None = None
    country: str | None = None

    @classmethod
    def from_api(cls, data: Json) -> Address:
        """Build from a customer (billing) or `shipping_address` object."""
        return cls(**{f.name: to_str(data.get(f.name)) for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class Customer:
    """A Lago customer, keyed by our `external_id`."""

    lago_id: str
    external_id: str
    name: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    currency: str | None = None
    timezone: str | None = None
    applicable_timezone: str | None = None
    legal_name: str | None = None
    tax_identification_number: str | None = None
    customer_type: str | None = None
    address: Address = field(default_factory=Address)
    payment_provider: str | None = None
    payment_provider_code: str | None = None
    provider_customer_id: str | None = None
    document_locale: str | None = None
    metadata: dict[str, str] = _dict()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @property
    def display_name(self) -> str:
        """The best name to show: company name, then person, then the external id."""
        person = " ".join(p for p in (self.firstname, self.lastname) if p)
        return self.name or person or self.external_id

    @classmethod
    def from_api(cls, data: Json) -> Customer:
        """Build from a `customer` object."""
        billing = mapping(data.get("billing_configuration"))
        meta = {
            str(m["key"]): str(m.get("value") or "")
            for m in objects(data.get("metadata"))
            if "key" in m
        }
        return cls(
            lago_id=str(data["lago_id"]),
            external_id=str(data["external_id"]),
            name=to_str(data.get("name")),
            firstname=to_str(data.get("firstname")),
            lastname=to_str(data.get("lastname")),
            email=to_str(data.get("email")),
            currency=to_str(data.get("currency")),
            timezone=to_str(data.get("timezone")),
            applicable_timezone=to_str(data.get("applicable_timezone")),
            legal_name=to_str(data.get("legal_name")),
            tax_identification_number=to_str(data.get("tax_identification_number")),
            customer_type=to_str(data.get("customer_type")),
            address=Address.from_api(data),
            payment_provider=to_str(billing.get("payment_provider")),
            payment_provider_code=to_str(billing.get("payment_provider_code")),
            provider_customer_id=to_str(billing.get("provider_customer_id")),
            document_locale=to_str(billing.get("document_locale")),
            metadata=meta,
            created_at=to_datetime(data.get("created_at")),
            updated_at=to_datetime(data.get("updated_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    """A customer's subscription to a plan, keyed by our `external_id`."""

    lago_id: str
    external_id: str
    external_customer_id: str
    plan_code: str
    status: str
    name: str | None = None
    lago_customer_id: str | None = None
    billing_time: str | None = None
    plan_amount_cents: int | None = None
    plan_amount_currency: str | None = None
    previous_plan_code: str | None = None
    next_plan_code: str | None = None
    downgrade_plan_date: date | None = None
    subscription_at: datetime | None = None
    started_at: datetime | None = None
    trial_ended_at: datetime | None = None
    ending_at: datetime | None = None
    terminated_at: datetime | None = None
    canceled_at: datetime | None = None
    current_billing_period_started_at: datetime | None = None
    current_billing_period_ending_at: datetime | None = None
    created_at: datetime | None = None
    plan: Plan | None = None
    raw: dict[str, Any] = _raw()

    @property
    def is_active(self) -> bool:
        """True while the subscription bills."""
        return self.status == "active"

    @classmethod
    def from_api(cls, data: Json) -> Subscription:
        """Build from a `subscription` object (with its `plan` when included)."""
        plan = data.get("plan")
        return cls(
            lago_id=str(data["lago_id"]),
            external_id=str(data["external_id"]),
            external_customer_id=str(data.get("external_customer_id") or ""),
            plan_code=str(data.get("plan_code") or ""),
            status=str(data.get("status") or ""),
            name=to_str(data.get("name")),
            lago_customer_id=to_str(data.get("lago_customer_id")),
            billing_time=to_str(data.get("billing_time")),
            plan_amount_cents=to_cents_or_none(data.get("plan_amount_cents")),
            plan_amount_currency=to_str(data.get("plan_amount_currency")),
            previous_plan_code=to_str(data.get("previous_plan_code")),
            next_plan_code=to_str(data.get("next_plan_code")),
            downgrade_plan_date=to_date(data.get("downgrade_plan_date")),
            subscription_at=to_datetime(data.get("subscription_at")),
            started_at=to_datetime(data.get("started_at")),
            trial_ended_at=to_datetime(data.get("trial_ended_at")),
            ending_at=to_datetime(data.get("ending_at")),
            terminated_at=to_datetime(data.get("terminated_at")),
            canceled_at=to_datetime(data.get("canceled_at")),
            current_billing_period_started_at=to_datetime(
                data.get("current_billing_period_started_at")
            ),
            current_billing_period_ending_at=to_datetime(
                data.get("current_billing_period_ending_at")
            ),
            created_at=to_datetime(data.get("created_at")),
            plan=Plan.from_api(plan) if isinstance(plan, Mapping) else None,
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice with its totals in cents."""

    lago_id: str
    number: str
    status: str
    payment_status: str
    currency: str
    total_amount_cents: int
    invoice_type: str | None = None
    issuing_date: date | None = None
    payment_due_date: date | None = None
    payment_overdue: bool = False
    fees_amount_cents: int = 0
    coupons_amount_cents: int = 0
    credit_notes_amount_cents: int = 0
    prepaid_credit_amount_cents: int = 0
    taxes_amount_cents: int = 0
    sub_total_excluding_taxes_amount_cents: int = 0
    sub_total_including_taxes_amount_cents: int = 0
    external_customer_id: str | None = None
    file_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> Invoice:
        """Build from an `invoice` object."""

        def cents(name: str) -> int:
            return to_cents(data.get(name) or 0)

        customer = mapping(data.get("customer"))
        return cls(
            lago_id=str(data["lago_id"]),
            number=str(data.get("number") or ""),
            status=str(data.get("status") or ""),
            payment_status=str(data.get("payment_status") or ""),
            currency=str(data.get("currency") or ""),
            total_amount_cents=cents("total_amount_cents"),
            invoice_type=to_str(data.get("invoice_type")),
            issuing_date=to_date(data.get("issuing_date")),
            payment_due_date=to_date(data.get("payment_due_date")),
            payment_overdue=to_bool(data.get("payment_overdue")),
            fees_amount_cents=cents("fees_amount_cents"),
            coupons_amount_cents=cents("coupons_amount_cents"),
            credit_notes_amount_cents=cents("credit_notes_amount_cents"),
            prepaid_credit_amount_cents=cents("prepaid_credit_amount_cents"),
            taxes_amount_cents=cents("taxes_amount_cents"),
            sub_total_excluding_taxes_amount_cents=cents("sub_total_excluding_taxes_amount_cents"),
            sub_total_including_taxes_amount_cents=cents("sub_total_including_taxes_amount_cents"),
            external_customer_id=to_str(customer.get("external_id")),
            file_url=to_str(data.get("file_url")),
            created_at=to_datetime(data.get("created_at")),
            updated_at=to_datetime(data.get("updated_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line printed on an invoice: a fee, a coupon or credit, or a tax."""

    kind: str  # "fee", "coupon", "credit_note", "progressive_billing", "prepaid_credit", "tax"
    label: str
    amount_cents: int
    units: Decimal | None = None
    from_datetime: datetime | None = None
    to_datetime: datetime | None = None

    @classmethod
    def fee(cls, data: Json) -> InvoiceLine:
        """From a `fees[]` item of an extended invoice."""
        item = mapping(data.get("item"))
        label = item.get("invoice_display_name") or item.get("name") or item.get("code")
        return cls(
            kind="fee",
            label=str(label or "Fee"),
            amount_cents=to_cents(data.get("amount_cents") or 0),
            units=to_decimal(data.get("units"), None),
            from_datetime=to_datetime(data.get("from_date")),
            to_datetime=to_datetime(data.get("to_date")),
        )

    @classmethod
    def credit(cls, data: Json) -> InvoiceLine:
        """From a `credits[]` item: a coupon, a credit note or progressive billing already paid."""
        item = mapping(data.get("item"))
        kind = str(item.get("type") or "credit_note")
        label = item.get("name") or item.get("code") or kind.replace("_", " ").capitalize()
        return cls(
            kind=kind, label=str(label), amount_cents=-to_cents(data.get("amount_cents") or 0)
        )

    @classmethod
    def tax(cls, data: Json) -> InvoiceLine:
        """From an `applied_taxes[]` item."""
        rate = to_decimal(data.get("tax_rate"), None)
        name = str(data.get("tax_name") or data.get("tax_code") or "Tax")
        label = f"{name} ({rate.normalize():f} %)" if rate is not None else name
        return cls(kind="tax", label=label, amount_cents=to_cents(data.get("amount_cents") or 0))


@dataclass(frozen=True, slots=True)
class InvoiceDetail:
    """An extended invoice as printed: its lines, its totals and the billing details on it."""

    invoice: Invoice
    fees: tuple[InvoiceLine, ...] = ()
    credits: tuple[InvoiceLine, ...] = ()
    taxes: tuple[InvoiceLine, ...] = ()
    billed_to: Customer | None = None

    @classmethod
    def from_api(cls, data: Json) -> InvoiceDetail:
        """Build from the `invoice` object of `GET /invoices/{id}` (fees, credits, customer)."""
        invoice = Invoice.from_api(data)
        credits = [InvoiceLine.credit(c) for c in objects(data.get("credits"))]
        prepaid = invoice.prepaid_credit_amount_cents
        if prepaid:
            credits.append(InvoiceLine("prepaid_credit", "Prepaid credits", -prepaid))
        customer = mapping(data.get("customer"))
        return cls(
            invoice=invoice,
            fees=tuple(InvoiceLine.fee(f) for f in objects(data.get("fees"))),
            credits=tuple(credits),
            taxes=tuple(InvoiceLine.tax(t) for t in objects(data.get("applied_taxes"))),
            billed_to=Customer.from_api(customer) if customer.get("lago_id") else None,
        )


@dataclass(frozen=True, slots=True)
class CreditNote:
    """A credit note: money given back on an invoice, as credit or as a refund."""

    lago_id: str
    number: str
    lago_invoice_id: str
    currency: str
    total_amount_cents: int
    credit_status: str | None = None
    refund_status: str | None = None
    reason: str | None = None
    credit_amount_cents: int = 0
    refund_amount_cents: int = 0
    issuing_date: date | None = None
    external_customer_id: str | None = None
    file_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> CreditNote:
        """Build from a `credit_note` object."""
        customer = mapping(data.get("customer"))
        return cls(
            lago_id=str(data["lago_id"]),
            number=str(data.get("number") or ""),
            lago_invoice_id=str(data["lago_invoice_id"]),
            currency=str(data.get("currency") or ""),
            total_amount_cents=to_cents(data.get("total_amount_cents") or 0),
            credit_status=to_str(data.get("credit_status")),
            refund_status=to_str(data.get("refund_status")),
            reason=to_str(data.get("reason")),
            credit_amount_cents=to_cents(data.get("credit_amount_cents") or 0),
            refund_amount_cents=to_cents(data.get("refund_amount_cents") or 0),
            issuing_date=to_date(data.get("issuing_date")),
            external_customer_id=to_str(customer.get("external_id")),
            file_url=to_str(data.get("file_url")),
            created_at=to_datetime(data.get("created_at")),
            updated_at=to_datetime(data.get("updated_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class ChargeUsage:
    """Usage and its price so far for one charge."""

    billable_metric_code: str
    billable_metric_name: str
    units: Decimal
    amount_cents: int
    amount_currency: str | None = None
    events_count: int = 0
    charge_model: str | None = None
    invoice_display_name: str | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> ChargeUsage:
        """Build from a `charges_usage[]` item."""
        metric = mapping(data.get("billable_metric"))
        charge = mapping(data.get("charge"))
        return cls(
            billable_metric_code=str(metric.get("code") or ""),
            billable_metric_name=str(metric.get("name") or metric.get("code") or ""),
            units=to_decimal(data.get("units")) or Decimal(0),
            amount_cents=to_cents(data.get("amount_cents") or 0),
            amount_currency=to_str(data.get("amount_currency")),
            events_count=int(data.get("events_count") or 0),
            charge_model=to_str(charge.get("charge_model")),
            invoice_display_name=to_str(charge.get("invoice_display_name")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class CustomerUsage:
    """A customer's usage for the current billing period of one subscription."""

    from_datetime: datetime | None
    to_datetime: datetime | None
    currency: str
    amount_cents: int
    taxes_amount_cents: int = 0
    total_amount_cents: int = 0
    issuing_date: date | None = None
    lago_invoice_id: str | None = None
    charges_usage: tuple[ChargeUsage, ...] = ()
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> CustomerUsage:
        """Build from a `customer_usage` object."""
        return cls(
            from_datetime=to_datetime(data.get("from_datetime")),
            to_datetime=to_datetime(data.get("to_datetime")),
            currency=str(data.get("currency") or ""),
            amount_cents=to_cents(data.get("amount_cents") or 0),
            taxes_amount_cents=to_cents(data.get("taxes_amount_cents") or 0),
            total_amount_cents=to_cents(data.get("total_amount_cents") or 0),
            issuing_date=to_date(data.get("issuing_date")),
            lago_invoice_id=to_str(data.get("lago_invoice_id")),
            charges_usage=tuple(
                ChargeUsage.from_api(c) for c in objects(data.get("charges_usage"))
            ),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class NoUsageYet:
    """Lago has no current usage to show: no active subscription with this external id yet
    (pending, ended, or not created), which Lago answers with 405 `no_active_subscription`."""

    external_customer_id: str
    external_subscription_id: str


@dataclass(frozen=True, slots=True)
class ProjectedUsage:
    """Lago's own projection of the current period of one subscription (`projected_usage`)."""

    usage: CustomerUsage
    projected_amount_cents: int
    projected_units: dict[str, Decimal] = _dict()  # metric code -> units at the period's end
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> ProjectedUsage:
        """Build from a `customer_projected_usage` object."""
        units: dict[str, Decimal] = {}
        for charge in objects(data.get("charges_usage")):
            code = str(mapping(charge.get("billable_metric")).get("code") or "")
            units[code] = units.get(code, Decimal(0)) + (
                to_decimal(charge.get("projected_units")) or Decimal(0)
            )
        return cls(
            usage=CustomerUsage.from_api(data),
            projected_amount_cents=to_cents(data.get("projected_amount_cents") or 0),
            projected_units=units,
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class AlertThreshold:
    """One threshold of a usage alert."""

    value: Decimal
    code: str | None = None
    recurring: bool = False

    @classmethod
    def from_api(cls, data: Json) -> AlertThreshold:
        return cls(
            value=to_decimal(data.get("value")) or Decimal(0),
            code=to_str(data.get("code")),
            recurring=to_bool(data.get("recurring")),
        )


@dataclass(frozen=True, slots=True)
class SubscriptionAlert:
    """An alert Lago evaluates for one subscription (usage) or one wallet (its balance)."""

    lago_id: str
    code: str
    alert_type: str
    external_subscription_id: str | None
    thresholds: tuple[AlertThreshold, ...] = ()
    last_processed_at: datetime | None = None  # None until Lago first evaluated it
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> SubscriptionAlert:
        """Build from an `alert` object."""
        return cls(
            lago_id=str(data["lago_id"]),
            code=str(data["code"]),
            alert_type=str(data.get("alert_type") or ""),
            external_subscription_id=to_str(data.get("external_subscription_id")),
            last_processed_at=to_datetime(data.get("last_processed_at")),
            thresholds=tuple(AlertThreshold.from_api(t) for t in objects(data.get("thresholds"))),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class TriggeredAlert:
    """An `alert.triggered` webhook: the thresholds one alert's value went past."""

    lago_id: str
    alert_code: str
    alert_type: str
    external_subscription_id: str | None
    external_customer_id: str | None
    current_value: Decimal
    crossed_thresholds: tuple[AlertThreshold, ...]
    triggered_at: datetime | None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> TriggeredAlert:
        """Build from a `triggered_alert` object (values may be numbers or decimal strings)."""
        return cls(
            lago_id=str(data["lago_id"]),
            alert_code=str(data.get("alert_code") or ""),
            alert_type=str(data.get("alert_type") or ""),
            external_subscription_id=to_str(
                data.get("external_subscription_id") or data.get("subscription_external_id")
            ),
            external_customer_id=to_str(
                data.get("external_customer_id") or data.get("customer_external_id")
            ),
            current_value=to_decimal(data.get("current_value")) or Decimal(0),
            crossed_thresholds=tuple(
                AlertThreshold.from_api(t) for t in objects(data.get("crossed_thresholds"))
            ),
            triggered_at=to_datetime(data.get("triggered_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class PreviewFee:
    """One fee of a previewed invoice (a base fee or a usage charge)."""

    item_type: str
    item_code: str
    item_name: str
    amount_cents: int
    units: Decimal = Decimal(0)
    external_subscription_id: str | None = None
    from_datetime: datetime | None = None
    to_datetime: datetime | None = None

    @classmethod
    def from_api(cls, data: Json) -> PreviewFee:
        """Build from a `fees[]` item."""
        item = mapping(data.get("item"))
        return cls(
            item_type=str(item.get("type") or ""),
            item_code=str(item.get("code") or ""),
            item_name=str(item.get("invoice_display_name") or item.get("name") or ""),
            amount_cents=to_cents(data.get("amount_cents") or 0),
            units=to_decimal(data.get("units")) or Decimal(0),
            external_subscription_id=to_str(data.get("external_subscription_id")),
            from_datetime=to_datetime(data.get("from_date")),
            to_datetime=to_datetime(data.get("to_date")),
        )


@dataclass(frozen=True, slots=True)
class PreviewCredit:
    """Credit a previewed invoice would use: a credit note, or the unused paid days of the
    subscription a change ends."""

    amount_cents: int
    item_type: str = "credit_note"
    item_code: str | None = None

    @classmethod
    def from_api(cls, data: Json) -> PreviewCredit:
        """Build from a `credits[]` item."""
        item = mapping(data.get("item"))
        return cls(
            amount_cents=to_cents(data.get("amount_cents") or 0),
            item_type=str(item.get("type") or "credit_note"),
            item_code=to_str(item.get("code")),
        )


@dataclass(frozen=True, slots=True)
class InvoicePreview:
    """The invoice a subscription change would produce; Lago stores nothing for it."""

    currency: str
    issuing_date: date | None
    fees_amount_cents: int
    total_amount_cents: int
    taxes_amount_cents: int = 0
    coupons_amount_cents: int = 0
    credit_notes_amount_cents: int = 0
    prepaid_credit_amount_cents: int = 0
    fees: tuple[PreviewFee, ...] = ()
    credits: tuple[PreviewCredit, ...] = ()
    plan_codes: tuple[str, ...] = ()
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> InvoicePreview:
        """Build from the `invoice` object of `POST /invoices/preview`."""

        def cents(name: str) -> int:
            return to_cents(data.get(name) or 0)

        return cls(
            currency=str(data.get("currency") or ""),
            issuing_date=to_date(data.get("issuing_date")),
            fees_amount_cents=cents("fees_amount_cents"),
            total_amount_cents=cents("total_amount_cents"),
            taxes_amount_cents=cents("taxes_amount_cents"),
            coupons_amount_cents=cents("coupons_amount_cents"),
            credit_notes_amount_cents=cents("credit_notes_amount_cents"),
            prepaid_credit_amount_cents=cents("prepaid_credit_amount_cents"),
            fees=tuple(PreviewFee.from_api(f) for f in objects(data.get("fees"))),
            credits=tuple(PreviewCredit.from_api(c) for c in objects(data.get("credits"))),
            plan_codes=tuple(
                str(s["plan_code"])
                for s in objects(data.get("subscriptions"))
                if s.get("plan_code")
            ),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Wallet:
    """Prepaid credits: balances in cents and in credits (a decimal string in Lago)."""

    lago_id: str
    external_customer_id: str
    status: str
    currency: str
    balance_cents: int
    rate_amount: Decimal
    credits_balance: Decimal
    name: str | None = None
    code: str | None = None
    lago_customer_id: str | None = None
    consumed_credits: Decimal = Decimal(0)
    ongoing_balance_cents: int | None = None
    ongoing_usage_balance_cents: int | None = None
    credits_ongoing_balance: Decimal | None = None
    paid_top_up_min_amount_cents: int | None = None
    paid_top_up_max_amount_cents: int | None = None
    expiration_at: datetime | None = None
    terminated_at: datetime | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> Wallet:
        """Build from a `wallet` object."""
        return cls(
            lago_id=str(data["lago_id"]),
            external_customer_id=str(data.get("external_customer_id") or ""),
            status=str(data.get("status") or ""),
            currency=str(data.get("currency") or ""),
            balance_cents=to_cents(data.get("balance_cents") or 0),
            rate_amount=to_decimal(data.get("rate_amount")) or Decimal(0),
            credits_balance=to_decimal(data.get("credits_balance")) or Decimal(0),
            name=to_str(data.get("name")),
            code=to_str(data.get("code")),
            lago_customer_id=to_str(data.get("lago_customer_id")),
            consumed_credits=to_decimal(data.get("consumed_credits")) or Decimal(0),
            ongoing_balance_cents=to_cents_or_none(data.get("ongoing_balance_cents")),
            ongoing_usage_balance_cents=to_cents_or_none(data.get("ongoing_usage_balance_cents")),
            credits_ongoing_balance=to_decimal(data.get("credits_ongoing_balance"), None),
            paid_top_up_min_amount_cents=to_cents_or_none(data.get("paid_top_up_min_amount_cents")),
            paid_top_up_max_amount_cents=to_cents_or_none(data.get("paid_top_up_max_amount_cents")),
            expiration_at=to_datetime(data.get("expiration_at")),
            terminated_at=to_datetime(data.get("terminated_at")),
            created_at=to_datetime(data.get("created_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class WalletTransaction:
    """Credits added to or taken from a wallet; purchased credits stay `pending` until their
    invoice is paid, granted ones are `settled` at once."""

    lago_id: str
    lago_wallet_id: str
    status: str
    transaction_status: str
    transaction_type: str
    amount: Decimal
    credit_amount: Decimal
    lago_invoice_id: str | None = None
    settled_at: datetime | None = None
    failed_at: datetime | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> WalletTransaction:
        """Build from a `wallet_transaction` object."""
        return cls(
            lago_id=str(data["lago_id"]),
            lago_wallet_id=str(data.get("lago_wallet_id") or ""),
            status=str(data.get("status") or ""),
            transaction_status=str(data.get("transaction_status") or ""),
            transaction_type=str(data.get("transaction_type") or ""),
            amount=to_decimal(data.get("amount")) or Decimal(0),
            credit_amount=to_decimal(data.get("credit_amount")) or Decimal(0),
            lago_invoice_id=to_str(data.get("lago_invoice_id")),
            settled_at=to_datetime(data.get("settled_at")),
            failed_at=to_datetime(data.get("failed_at")),
            created_at=to_datetime(data.get("created_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    """A payment method synced from the provider (Lago exposes no card brand or last4)."""

    lago_id: str
    payment_provider_type: str
    provider_method_id: str
    is_default: bool = False
    payment_provider_code: str | None = None
    payment_provider_name: str | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> PaymentMethod:
        """Build from a `payment_method` object."""
        return cls(
            lago_id=str(data["lago_id"]),
            payment_provider_type=str(data.get("payment_provider_type") or ""),
            provider_method_id=str(data.get("provider_method_id") or ""),
            is_default=to_bool(data.get("is_default")),
            payment_provider_code=to_str(data.get("payment_provider_code")),
            payment_provider_name=to_str(data.get("payment_provider_name")),
            created_at=to_datetime(data.get("created_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """Where Lago sends webhooks; `event_types` None means every event."""

    lago_id: str
    webhook_url: str
    signature_algo: str = "jwt"
    lago_organization_id: str | None = None
    name: str | None = None
    event_types: tuple[str, ...] | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> WebhookEndpoint:
        """Build from a `webhook_endpoint` object."""
        types = data.get("event_types")
        return cls(
            lago_id=str(data["lago_id"]),
            webhook_url=str(data["webhook_url"]),
            signature_algo=str(data.get("signature_algo") or "jwt"),
            lago_organization_id=to_str(data.get("lago_organization_id")),
            name=to_str(data.get("name")),
            event_types=strings(types) if isinstance(types, list) else None,
            created_at=to_datetime(data.get("created_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class PageMeta:
    """Lago's pagination block."""

    current_page: int
    next_page: int | None = None
    prev_page: int | None = None
    total_pages: int = 0
    total_count: int = 0

    @classmethod
    def from_api(cls, data: Json) -> PageMeta:
        """Build from a `meta` object."""
        next_page = data.get("next_page")
        prev_page = data.get("prev_page")
        return cls(
            current_page=int(data.get("current_page") or 0),
            next_page=int(next_page) if next_page is not None else None,
            prev_page=int(prev_page) if prev_page is not None else None,
            total_pages=int(data.get("total_pages") or 0),
            total_count=int(data.get("total_count") or 0),
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a Lago list."""

    items: tuple[T, ...]
    meta: PageMeta


@dataclass(frozen=True, slots=True)
class Coupon:
    """A coupon of Lago's catalogue: an amount (cents) or a percentage off, once, for a number
    of periods (`recurring`) or forever."""

    lago_id: str
    code: str
    name: str
    coupon_type: str  # fixed_amount | percentage
    frequency: str  # once | recurring | forever
    amount_cents: int | None = None
    amount_currency: str | None = None
    percentage_rate: Decimal | None = None
    frequency_duration: int | None = None
    reusable: bool = True
    description: str | None = None
    expiration_at: datetime | None = None
    terminated_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> Coupon:
        """Build from a `coupon` object."""
        duration = data.get("frequency_duration")
        return cls(
            lago_id=str(data["lago_id"]),
            code=str(data.get("code") or ""),
            name=str(data.get("name") or data.get("code") or ""),
            coupon_type=str(data.get("coupon_type") or ""),
            frequency=str(data.get("frequency") or ""),
            amount_cents=to_cents_or_none(data.get("amount_cents")),
            amount_currency=to_str(data.get("amount_currency")),
            percentage_rate=to_decimal(data.get("percentage_rate"), None),
            frequency_duration=duration if type(duration) is int else None,
            reusable=data.get("reusable") is not False,
            description=to_str(data.get("description")),
            expiration_at=to_datetime(data.get("expiration_at")),
            terminated_at=to_datetime(data.get("terminated_at")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class AppliedCoupon:
    """A coupon applied to a customer: what it takes off, and how much of it is left."""

    lago_id: str
    coupon_code: str
    coupon_name: str
    external_customer_id: str
    status: str  # active | terminated
    frequency: str
    amount_cents: int | None = None
    amount_cents_remaining: int | None = None
    amount_currency: str | None = None
    percentage_rate: Decimal | None = None
    frequency_duration: int | None = None
    frequency_duration_remaining: int | None = None
    expiration_at: datetime | None = None
    created_at: datetime | None = None
    terminated_at: datetime | None = None
    raw: dict[str, Any] = _raw()

    @classmethod
    def from_api(cls, data: Json) -> AppliedCoupon:
        """Build from an `applied_coupon` object."""

        def count(name: str) -> int | None:
            value = data.get(name)
            return value if type(value) is int else None

        return cls(
            lago_id=str(data["lago_id"]),
            coupon_code=str(data.get("coupon_code") or ""),
            coupon_name=str(data.get("coupon_name") or data.get("coupon_code") or ""),
            external_customer_id=str(data.get("external_customer_id") or ""),
            status=str(data.get("status") or ""),
            frequency=str(data.get("frequency") or ""),
            amount_cents=to_cents_or_none(data.get("amount_cents")),
            amount_cents_remaining=to_cents_or_none(data.get("amount_cents_remaining")),
            amount_currency=to_str(data.get("amount_currency")),
            percentage_rate=to_decimal(data.get("percentage_rate"), None),
            frequency_duration=count("frequency_duration"),
            frequency_duration_remaining=count("frequency_duration_remaining"),
            expiration_at=to_datetime(data.get("expiration_at")),
            created_at=to_datetime(data.get("created_at")),
            terminated_at=to_datetime(data.get("terminated_at")),
            raw=dict(data),
        )
