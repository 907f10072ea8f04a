"""Every failure of a Lago call, as one exception hierarchy with plain sentences."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

API_KEYS_HINT = "Copy the key again from Lago › Developers › API keys."
URL_EXAMPLES = "for example https://api.getlago.com or http://localhost:3000"


class LagoError(Exception):
    """Base class: `message` is shown to people, `hint` says what to do next."""

    default_message = "Something went wrong while talking to Lago."
    default_hint = "Try again in a moment."
    transient = False

    def __init__(
        self,
        message: str | None = None,
        *,
        hint: str | None = None,
        status: int | None = None,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.hint = hint or self.default_hint
        self.status = status
        self.code = code
        self.details: dict[str, Any] = dict(details or {})
        self.request: str | None = None
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, {self.message!r})"
        )


class LagoInvalidURL(LagoError):
    """The Lago URL itself is malformed."""

    default_message = "The Lago URL is not valid."
    default_hint = f"Enter the address of the Lago API, {URL_EXAMPLES}."


class LagoConnectionError(LagoError):
    """No usable HTTP answer came back: the network or the server is at fault."""

    default_message = "The connection to Lago was interrupted."
    default_hint = "Try again. If it keeps happening, check that Lago is running and reachable."
    transient = True


class LagoDNSError(LagoConnectionError):
    """The host name in the Lago URL does not resolve."""

    default_message = "The Lago server name could not be found."
    default_hint = "Check the spelling of the host name in the Lago URL."
    transient = False


class LagoConnectionRefused(LagoConnectionError):
    """The host answered but nothing listens on that port."""

    default_message = "The Lago server refused the connection."
    default_hint = "Check that Lago is running and that the port in the URL is right."


class LagoTLSError(LagoConnectionError):
    """The HTTPS handshake failed, usually over an untrusted certificate."""

    default_message = "The secure connection to Lago failed."
    default_hint = (
        "Check the certificate of the Lago server, or whether the URL should use http://."
    )
    transient = False


class LagoTimeout(LagoConnectionError):
    """Lago did not answer within the configured time."""

    default_message = "Lago did not answer in time."
    default_hint = "Try again. If it keeps happening, check the load and logs of the Lago server."

    def __init__(self, message: str | None = None, *, phase: str = "read", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.phase = phase


class LagoDeadlineExceeded(LagoTimeout):
    """The time allowed for the call (connect, read, retries and waits together) ran out."""

    default_message = "Lago did not answer in time."
    default_hint = "Pier stopped waiting so that the page is not held up. Try again in a moment."

    def __init__(self, seconds: float, **kwargs: Any) -> None:
        kwargs.setdefault("phase", "deadline")
        shown = f"{seconds:g} second{'s' if seconds != 1 else ''}"
        super().__init__(f"Lago did not answer within {shown}.", **kwargs)
        self.seconds = seconds


class LagoUnavailable(LagoConnectionError):
    """Lago failed repeatedly, so calls are refused at once until a probe succeeds.

    `known_at` is the time (UTC) of Lago's last good answer, when one was seen."""

    default_message = "Lago is not answering."
    default_hint = "Pier tries Lago again by itself in a few seconds."

    def __init__(self, message: str | None = None, *, known_at=None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.known_at = known_at


class LagoNotLagoAPI(LagoError):
    """Something answered, but it is not the Lago API (a web page, another service)."""

    default_message = "The Lago URL does not point at the Lago API."
    default_hint = f"Use the address of the Lago API, not the Lago web app: {URL_EXAMPLES}."


class LagoUnexpectedResponse(LagoError):
    """Lago answered in a shape or with a status this client does not understand."""

    default_message = "Lago sent an answer Pier does not understand."
    default_hint = "Check that Lago is up to date and that the URL points at the Lago API."


class LagoAPIError(LagoError):
    """Lago answered with one of its documented error responses."""


class LagoBadRequest(LagoAPIError):
    """400: Lago could not read the request."""

    default_message = "Lago could not read the request."
    default_hint = "This is likely a problem in Pier; please report it."


class LagoAuthError(LagoAPIError):
    """401: the API key is missing or unknown."""

    default_message = "Lago rejected the API key."
    default_hint = API_KEYS_HINT


class LagoForbidden(LagoAPIError):
    """403: the key or the organization may not do this."""

    default_message = "Lago refused this action."
    default_hint = "Check the permissions of the API key in Lago › Developers › API keys."


class LagoFeatureUnavailable(LagoForbidden):
    """The action needs a premium Lago licence or integration."""

    default_message = "This feature needs a Lago premium licence."
    default_hint = "Ask your Lago administrator to enable it, or turn the feature off in Pier."


class LagoPreviewUnavailable(LagoFeatureUnavailable):
    """This Lago does not preview invoices: 403 `feature_unavailable` without a premium licence,
    or 405 `premium_integration_missing` for existing subscriptions without the organization's
    `preview` integration."""

    default_message = "This Lago cannot preview invoices."
    default_hint = (
        "Invoice previews need a Lago premium licence, and the preview integration for "
        "changes to existing subscriptions."
    )


class LagoNotFound(LagoAPIError):
    """404: the object does not exist; `code` names what, e.g. `customer_not_found`."""

    default_message = "Lago could not find what was asked for."
    default_hint = "Check the identifier; the object may have been deleted."


class LagoNotAllowed(LagoAPIError):
    """405: the object is in a state that does not allow this action."""

    default_message = "Lago cannot do this in the current state."
    default_hint = "Reload the page: the object may have changed, then try again."


class LagoValidationError(LagoAPIError):
    """422: Lago refused the data; `details` maps each field to error codes."""

    default_message = "Lago did not accept the data."
    default_hint = "Correct the values and try again."

    @property
    def field_errors(self) -> dict[str, list[str]]:
        """Field name to Lago error codes, flattened to strings."""
        return {
            str(k): [str(c) for c in v] if isinstance(v, list) else [str(v)]
            for k, v in self.details.items()
        }


class LagoRateLimited(LagoAPIError):
    """429: too many requests, from Lago Cloud or from an upstream provider."""

    default_message = "Lago is receiving too many requests right now."
    default_hint = "Wait a few seconds and try again."
    transient = True

    def __init__(
        self, message: str | None = None, *, retry_after: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class LagoServerError(LagoAPIError):
    """5xx: Lago or a proxy in front of it failed."""

    default_message = "Lago had an internal error."
    default_hint = "Try again in a minute. If it keeps happening, check the Lago server logs."

    @property
    def transient(self) -> bool:  # type: ignore[override]
        """Gateway errors (502, 503, 504) usually pass; a 500 usually does not."""
        return self.status in (502, 503, 504)
