"""Validation of requests, responses and webhooks against the vendored Lago OpenAPI spec."""

from __future__ import annotations

import copy
import functools
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.validation.request.validators import (
    V31WebhookRequestBodyValidator,
    V31WebhookRequestParametersValidator,
)
from werkzeug.datastructures import Headers, ImmutableMultiDict

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
# The spec's servers are Lago Cloud URLs ending in /api/v1; requests are matched as if sent there.
SPEC_HOST = "https://api.getlago.com"
API_PREFIX = "/api/v1"
MAX_MESSAGE = 240


@dataclass(frozen=True)
class ExtraRoute:
    """A lago-api route missing from the spec: not validated, or validated like a spec route."""

    source: str
    response_like: tuple[str, str] | None = None


# Routes lago-api serves that the spec lacks (see the README); keyed "METHOD /path-template".
EXTRA_ROUTES: dict[str, ExtraRoute] = {
    "GET /organizations": ExtraRoute(
        source="lago-api config/routes.rb: get '/organizations', to: 'organizations#show'",
        response_like=("put", "/organizations"),
    ),
}


@dataclass(frozen=True)
class ExtraResponse:
    """A status lago-api answers on a route whose spec entry lacks it; the body is checked
    against the same status documented on a sibling route (`like`: method, path template)."""

    source: str
    like: tuple[str, str]


# Keyed ("METHOD /path-template", status).
EXTRA_RESPONSES: dict[tuple[str, int], ExtraResponse] = {
    ("POST /invoices/{lago_id}/void", 405): ExtraResponse(
        source="Invoices::VoidService: AASM::InvalidTransition -> not_allowed_failure!"
        "(code: 'not_voidable')",
        like=("post", "/invoices/{lago_id}/retry_payment"),
    ),
    ("POST /invoices", 404): ExtraResponse(
        source="Invoices::CreateOneOffService: not_found_failure! for the customer, fees and "
        "add_on",
        like=("get", "/invoices/{lago_id}"),
    ),
    ("GET /customers/{external_customer_id}/current_usage", 405): ExtraResponse(
        source="Invoices::CustomerUsageService: not_allowed_failure!(code: "
        "'no_active_subscription')",
        like=("post", "/invoices/{lago_id}/retry_payment"),
    ),
    ("GET /customers/{external_customer_id}/projected_usage", 405): ExtraResponse(
        source="Invoices::CustomerUsageService: not_allowed_failure!(code: "
        "'no_active_subscription')",
        like=("post", "/invoices/{lago_id}/retry_payment"),
    ),
    ("POST /invoices/preview", 403): ExtraResponse(
        source="Invoices::PreviewService: forbidden_failure! unless License.premium?",
        like=("get", "/analytics/mrr"),
    ),
    ("POST /invoices/preview", 405): ExtraResponse(
        source="Invoices::PreviewService: not_allowed_failure!(code: "
        "'premium_integration_missing') without the organization's preview integration",
        like=("post", "/invoices/{lago_id}/retry_payment"),
    ),
    ("POST /invoices/preview", 422): ExtraResponse(
        source="Invoices::Preview::SubscriptionsService and friends: validation failures",
        like=("post", "/subscriptions"),
    ),
    ("GET /wallets", 404): ExtraResponse(
        source="WalletsController#index: not_found_error(resource: 'customer')",
        like=("get", "/wallets/{lago_id}"),
    ),
}

# Routes where lago-api answers 200 with an empty body although the spec documents a body.
EMPTY_RESPONSES: dict[str, str] = {
    "POST /invoices/{lago_id}/download": (
        "InvoicesController#download_pdf: an empty 200 while Invoices::GeneratePdfJob runs "
        "(NOTES §2.5); invoice.generated follows"
    ),
}

# Routes answering objects lago-api builds without saving them: their ids (and the fees' times)
# are null where the spec types strings. The body is checked with placeholders in those nulls.
UNSAVED_RESPONSES: dict[str, str] = {
    "POST /invoices/preview": (
        "Invoices::PreviewService serializes Invoice.new, Fee.new, Credit.new and the new "
        "Subscription.new of a plan change, none of them persisted"
    ),
}
UNSAVED_PLACEHOLDERS: dict[str, Any] = {
    "lago_id": "1a901a90-1a90-1a90-1a90-1a901a901a90",
    "lago_invoice_id": "1a901a90-1a90-1a90-1a90-1a901a901a90",
    "lago_item_id": "1a901a90-1a90-1a90-1a90-1a901a901a90",
    "lago_customer_id": "1a901a90-1a90-1a90-1a90-1a901a901a90",
    "lago_subscription_id": "1a901a90-1a90-1a90-1a90-1a901a901a90",
    "external_id": "unsaved",
    "sequential_id": 0,
    "created_at": "1970-01-01T00:00:00Z",
}


def fill_unsaved(body: bytes) -> bytes:
    """The body with UNSAVED_PLACEHOLDERS in the null ids, for checking against the spec."""

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: UNSAVED_PLACEHOLDERS[k] if v is None and k in UNSAVED_PLACEHOLDERS else fill(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [fill(item) for item in node]
        return node

    return json.dumps(fill(json.loads(body))).encode()


# Response fields lago-api's serializers emit as null although the spec types them non-null.
# They are made nullable in memory (the vendored file stays byte-for-byte); each names its source.
SPEC_GAPS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("PlanObject", ("description",), "V1::PlanSerializer: model.description (nullable column)"),
    ("PlanObject", ("invoice_display_name",), "V1::PlanSerializer: model.invoice_display_name"),
    ("PlanObject", ("trial_period",), "V1::PlanSerializer: model.trial_period (nullable float)"),
    ("BillableMetricObject", ("expression",), "V1::BillableMetricSerializer: model.expression"),
    (
        "AlertObject",
        ("billable_metric",),
        "V1::UsageMonitoring::AlertSerializer: nil unless the alert watches a billable metric",
    ),
    *(
        (
            "TriggeredAlertObject",
            (name,),
            "V1::UsageMonitoring::TriggeredAlertSerializer: model.subscription_id and "
            "alert.subscription_external_id, null for a wallet alert",
        )
        for name in ("lago_subscription_id", "external_subscription_id")
    ),
    (
        "CustomerBillingConfiguration",
        ("invoice_grace_period",),
        "V1::CustomerSerializer#billing_configuration: model.invoice_grace_period",
    ),
    (
        "CustomerBillingConfiguration",
        ("payment_provider",),
        "V1::CustomerSerializer#billing_configuration: model.payment_provider",
    ),
    (
        "CustomerBillingConfiguration",
        ("payment_provider_code",),
        "V1::CustomerSerializer#billing_configuration: model.payment_provider_code",
    ),
    (
        "CustomerBillingConfiguration",
        ("provider_customer_id",),
        "V1::CustomerSerializer#billing_configuration: stripe_customer&.provider_customer_id",
    ),
    (
        "CustomerBillingConfiguration",
        ("document_locale",),
        "V1::CustomerSerializer#billing_configuration: model.document_locale",
    ),
    (
        "SubscriptionObject",
        ("on_termination_credit_note",),
        "typed string|null but its enum lacks null; Subscription#on_termination_credit_note is "
        "null on pay-in-arrears plans (credit notes only cover pay-in-advance time, NOTES §2.4)",
    ),
    (
        "SubscriptionObject",
        ("cancellation_reason",),
        "typed string|null and described as null unless payment gating canceled it, but its enum "
        "lacks null; V1::SubscriptionSerializer: model.cancellation_reason",
    ),
    (
        "PaymentMethodReference",
        ("payment_method_id",),
        "V1::SubscriptionSerializer / WalletSerializer / WalletTransactionSerializer"
        "#payment_method: model.payment_method_id, null unless a method was chosen (NOTES §2.9)",
    ),
    (
        "InvoiceBaseObject",
        ("file_url",),
        "V1::InvoiceSerializer: model.file_url, null until the PDF is generated (NOTES §2.5)",
    ),
    (
        "InvoiceBaseObject",
        ("payment_dispute_lost_at",),
        "V1::InvoiceSerializer: model.payment_dispute_lost_at, null unless a dispute was lost "
        "(NOTES §2.5)",
    ),
    *(
        (
            "InvoicePaymentFailureObject",
            (name,),
            "V1::PaymentProviders::InvoicePaymentErrorSerializer: null when retry_payment finds "
            "no payment provider (customer_must_have_payment_provider, NOTES §9)",
        )
        for name in ("provider_customer_id", "payment_provider", "payment_provider_code")
    ),
    (
        "InvoicePaymentFailureObject",
        ("provider_error",),
        "V1::PaymentProviders::InvoicePaymentErrorSerializer: options[:provider_error], null "
        "for customer_must_have_payment_provider (NOTES §9)",
    ),
    (
        "MrrObject",
        ("amount_cents",),
        "V1::Analytics::MrrSerializer: SUM over a LEFT JOIN, null for a month without revenue",
    ),
    (
        "MrrObject",
        ("currency",),
        "V1::Analytics::MrrSerializer: the joined currency, null for a month without revenue",
    ),
)


# Decimal strings whose spec pattern only allows non-negative numbers although lago-api emits
# negative ones; the pattern accepts a leading minus in memory.
SIGNED_GAPS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "WalletObject",
        ("credits_ongoing_balance",),
        "Wallets::Balance::RefreshOngoingUsageService: balance minus current usage and draft "
        "invoices (NOTES §2.7), below zero once usage exceeds the balance",
    ),
)

# Fields the spec requires that lago-api's serializers no longer emit; not required in memory.
DROPPED_FIELDS: tuple[tuple[str, str, str], ...] = (
    (
        "CustomerProjectedChargeUsageObject",
        "groups",
        "V1::Customers::ProjectedChargeUsageSerializer emits `filters` and `grouped_usage`",
    ),
)


# Response schemas whose shape differs from what lago-api's serializers emit: a property, then
# keys inside it; the node is replaced in memory by the one given.
SHAPE_GAPS: tuple[tuple[str, tuple[str, ...], Any, str], ...] = (
    (
        "PlanObject",
        ("entitlements", "items"),
        {"$ref": "#/components/schemas/PlanEntitlementObject"},
        "V1::PlanSerializer#entitlements: a CollectionSerializer of PlanEntitlementSerializer, "
        "so each item is the entitlement itself, not wrapped in an `entitlement` key",
    ),
    (
        "TriggeredAlertObject",
        ("alert_type", "enum"),
        [
            "current_usage_amount",
            "billable_metric_current_usage_amount",
            "billable_metric_current_usage_units",
            "lifetime_usage_amount",
            "billable_metric_lifetime_usage_units",
            "wallet_balance_amount",
            "wallet_credits_balance",
            "wallet_ongoing_balance_amount",
            "wallet_credits_ongoing_balance",
        ],
        "UsageMonitoring::Alert::STI_MAPPING: wallet alerts send alert.triggered too "
        "(ProcessWalletAlertsService)",
    ),
)


@dataclass
class SpecStats:
    """How long loading and validating took, for the README and the report."""

    read_and_parse_s: float = 0.0
    build_s: float = 0.0
    first_validation_s: float = 0.0
    request_validations: int = 0
    request_validation_s: float = 0.0
    response_validations: int = 0
    response_validation_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Timings in milliseconds, plus averages."""
        data = {
            k: round(v * 1000, 3) if isinstance(v, float) else v for k, v in asdict(self).items()
        }
        data = {(k[:-2] + "_ms" if k.endswith("_s") else k): v for k, v in data.items()}
        for kind in ("request", "response"):
            count = getattr(self, f"{kind}_validations")
            total = getattr(self, f"{kind}_validation_s")
            data[f"{kind}_validation_avg_ms"] = round(total * 1000 / count, 3) if count else None
        return data


@dataclass
class LoadedSpec:
    """The parsed spec (as a dict, with SPEC_GAPS applied) and its openapi-core object."""

    data: dict[str, Any]
    openapi: OpenAPI
    stats: SpecStats


@functools.cache
def load_spec(path: str = str(SPEC_PATH)) -> LoadedSpec:
    """Read, parse and prepare the spec once per process (libyaml loader when available)."""
    started = time.perf_counter()
    with open(path, "rb") as handle:
        data = yaml.load(handle, Loader=SafeLoader)  # noqa: S506 - a SafeLoader
    parsed = time.perf_counter()
    data = apply_gaps(data)
    openapi = OpenAPI.from_dict(data, config=Config(spec_validator_cls=None))
    built = time.perf_counter()
    stats = SpecStats(read_and_parse_s=parsed - started, build_s=built - parsed)
    loaded = LoadedSpec(data=data, openapi=openapi, stats=stats)
    warm = time.perf_counter()
    list(openapi.iter_request_errors(_Request("get", API_PREFIX + "/plans", {}, {}, None, "")))
    stats.first_validation_s = time.perf_counter() - warm
    return loaded


def apply_gaps(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec with the SPEC_GAPS fields made nullable, SHAPE_GAPS reshaped,
    SIGNED_GAPS signed and DROPPED_FIELDS no longer required."""
    data = copy.deepcopy(data)
    schemas = data["components"]["schemas"]
    for schema_name, prop_path, _source in SPEC_GAPS:
        props = _properties(schemas[schema_name], prop_path)
        props[prop_path[-1]] = _nullable(props[prop_path[-1]])
    for schema_name, (prop, *keys, last), shape, _source in SHAPE_GAPS:
        node = schemas[schema_name]["properties"][prop]
        for key in keys:
            node = node[key]
        node[last] = shape
    for schema_name, prop_path, _source in SIGNED_GAPS:
        props = _properties(schemas[schema_name], prop_path)
        props[prop_path[-1]] = dict(props[prop_path[-1]], pattern="^-?[0-9]+.?[0-9]*$")
    for schema_name, name, _source in DROPPED_FIELDS:
        schema = schemas[schema_name]
        schema["required"] = [field for field in schema.get("required", []) if field != name]
    return data


def _properties(node: dict[str, Any], prop_path: tuple[str, ...]) -> dict[str, Any]:
    for part in prop_path[:-1]:
        node = node["properties"][part]
    return node["properties"]


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    schema = dict(schema)
    if "oneOf" in schema:
        schema["oneOf"] = [*schema["oneOf"], {"type": "null"}]
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = [*kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def schema_enum(name: str) -> list[Any]:
    """The `enum` of a component schema (e.g. Currency, Country, Timezone)."""
    return list(load_spec().data["components"]["schemas"][name]["enum"])


class _Request:
    """A request shaped the way openapi-core expects."""

    def __init__(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | Iterable[tuple[str, Any]],
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes | None,
        content_type: str,
    ) -> None:
        self.host_url = SPEC_HOST
        self.path = path
        self.method = method.lower()
        self.body = body or None
        self.content_type = (content_type or "application/octet-stream").lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query), header=Headers(headers), cookie=ImmutableMultiDict()
        )

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


class _WebhookRequest:
    """An outgoing webhook shaped as openapi-core's webhook request."""

    def __init__(self, name: str, headers: Mapping[str, str], body: bytes) -> None:
        self.name = name
        self.method = "post"
        self.body = body
        self.content_type = "application/json"
        self.parameters = RequestParameters(header=Headers(headers))


@dataclass
class _Response:
    status_code: int
    data: bytes | None
    content_type: str
    headers: Headers = field(default_factory=Headers)


@dataclass
class Violation:
    """One request, response or webhook that does not conform to the spec."""

    kind: str
    method: str
    path: str
    errors: list[str]
    status: int | None = None
    at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        status = f" -> {self.status}" if self.status is not None else ""
        return f"[{self.kind}] {self.method} {self.path}{status}: " + "; ".join(self.errors)


class SpecGuard:
    """Validates traffic against the spec and records what does not conform."""

    def __init__(self, spec: LoadedSpec | None = None) -> None:
        self.spec = spec or load_spec()
        self._violations: list[Violation] = []
        self._lock = threading.Lock()

    @property
    def stats(self) -> SpecStats:
        return self.spec.stats

    def has_operation(self, method: str, path: str) -> bool:
        """Whether the spec documents this method on this concrete path."""
        request = _Request(method, path, {}, {}, None, "")
        found = self.spec.openapi.iter_request_errors(request)
        return not any(isinstance(error, PathError) for error in found)

    def check_request(
        self,
        method: str,
        path: str,
        query: Any,
        headers: Any,
        body: bytes | None,
        content_type: str,
    ) -> list[str]:
        """The spec's complaints about a request (empty when it conforms)."""
        request = _Request(method, path, query, headers, body, content_type)
        started = time.perf_counter()
        problems = _describe_all(self.spec.openapi.iter_request_errors(request))
        with self._lock:
            self.stats.request_validations += 1
            self.stats.request_validation_s += time.perf_counter() - started
        return problems

    def check_response(
        self,
        method: str,
        path: str,
        status: int,
        body: bytes | None,
        content_type: str,
        headers: Any = (),
    ) -> list[str]:
        """The spec's complaints about a response to `method path`."""
        request = _Request(method, path, {}, {}, None, "")
        response = _Response(status, body or None, (content_type or "").lower(), Headers(headers))
        started = time.perf_counter()
        problems = _describe_all(self.spec.openapi.iter_response_errors(request, response))
        with self._lock:
            self.stats.response_validations += 1
            self.stats.response_validation_s += time.perf_counter() - started
        return problems

    def check_webhook(
        self, webhook_type: str, headers: Mapping[str, str], body: bytes
    ) -> list[str]:
        """The spec's complaints about an outgoing webhook ([] when conforming or undocumented)."""
        name = webhook_type.replace(".", "_")
        if name not in self.spec.data.get("webhooks", {}):
            return []
        request = _WebhookRequest(name, headers, body)
        # The spec's global bearerAuth requirement would also apply to webhooks; only
        # the parameters (signature headers) and the body are checked.
        errors: list[Exception] = []
        for validator in (self._webhook_parameters, self._webhook_body):
            errors.extend(validator.iter_errors(request))
        return _describe_all(errors)

    @functools.cached_property
    def _webhook_body(self) -> V31WebhookRequestBodyValidator:
        return V31WebhookRequestBodyValidator(self.spec.openapi.spec)

    @functools.cached_property
    def _webhook_parameters(self) -> V31WebhookRequestParametersValidator:
        return V31WebhookRequestParametersValidator(self.spec.openapi.spec)

    def record(self, violation: Violation) -> None:
        """Remember a violation."""
        with self._lock:
            self._violations.append(violation)

    def violations(self) -> list[Violation]:
        """The violations recorded so far."""
        with self._lock:
            return list(self._violations)

    def pop_violations(self) -> list[Violation]:
        """Return and forget the recorded violations."""
        with self._lock:
            taken, self._violations = self._violations, []
            return taken


def _describe_all(errors: Iterable[Exception]) -> list[str]:
    lines: list[str] = []
    for error in errors:
        lines.extend(describe(error))
    return lines


def describe(error: Exception) -> list[str]:
    """Readable lines for an openapi-core error, one per underlying schema error."""
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
    head = type(error).__name__
    if schema_errors:
        name = getattr(error, "name", None)
        where = f" {name}" if name else ""
        return [f"{head}{where} at {_json_path(err)}: {_message(err)}" for err in schema_errors]
    detail = (
        f" ({_short(str(cause))})" if cause is not None and str(cause) not in str(error) else ""
    )
    return [f"{head}: {_short(str(error))}{detail}"]


def _message(err: Any) -> str:
    if getattr(err, "validator", None) == "enum" and len(str(err.validator_value)) > 80:
        return f"{err.instance!r} is not one of the {len(err.validator_value)} allowed values"
    return _short(err.message)


def _json_path(err: Any) -> str:
    path = getattr(err, "json_path", None)
    if path:
        return path
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"
