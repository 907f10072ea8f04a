"""Classify httpx transport failures into the `LagoConnectionError` family."""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator

import httpx

from portal.lago.errors import (
    LagoConnectionError,
    LagoConnectionRefused,
    LagoDNSError,
    LagoError,
    LagoInvalidURL,
    LagoTimeout,
    LagoTLSError,
    LagoUnexpectedResponse,
)

# getaddrinfo codes meaning "try again later" rather than "no such name".
TEMPORARY_DNS_CODES = frozenset({socket.EAI_AGAIN})
UNREACHABLE_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN})
TIMEOUT_PHASES: tuple[tuple[type[httpx.TimeoutException], str], ...] = (
    (httpx.ConnectTimeout, "connect"),
    (httpx.ReadTimeout, "read"),
    (httpx.WriteTimeout, "write"),
    (httpx.PoolTimeout, "pool"),
)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it was raised from, innermost last."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _find(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    return next((e for e in causes(exc) if isinstance(e, kind)), None)


def _where(request: httpx.Request | None) -> dict[str, object]:
    if request is None:
        return {}
    url = request.url
    port = url.port or (443 if url.scheme == "https" else 80)
    return {"host": url.host, "port": port, "scheme": url.scheme}


def _request_of(exc: httpx.HTTPError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:
        return None


def error_for_transport(exc: Exception) -> LagoError:
    """Map an httpx exception (raised instead of a response) to a `LagoError`."""
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return LagoInvalidURL(details={"reason": str(exc)})
    if not isinstance(exc, httpx.HTTPError):
        return LagoConnectionError(details={"reason": repr(exc)})
    where = _where(_request_of(exc))
    details = {**where, "reason": str(exc)}
    for kind, phase in TIMEOUT_PHASES:
        if isinstance(exc, kind):
            return _timeout(phase, details)
    if isinstance(exc, httpx.DecodingError):
        return LagoUnexpectedResponse("Lago sent a broken answer.", details=details)
    if isinstance(exc, httpx.ProxyError):
        return LagoConnectionError(
            "The proxy between Pier and Lago refused the connection.",
            hint="Check the HTTP(S)_PROXY settings of the Pier server.",
            details=details,
        )
    return _connection_failure(exc, where, details)


def _timeout(phase: str, details: dict[str, object]) -> LagoTimeout:
    if phase == "connect":
        return LagoTimeout(
            "Lago did not accept the connection in time.",
            hint="Check the URL, and that a firewall does not block Pier from reaching Lago.",
            phase=phase,
            details=details,
        )
    if phase == "pool":
        return LagoTimeout("Pier is busy talking to Lago.", phase=phase, details=details)
    return LagoTimeout("Lago took too long to answer.", phase=phase, details=details)


def _connection_failure(
    exc: Exception, where: dict[str, object], details: dict[str, object]
) -> LagoError:
    host = where.get("host") or "the Lago host"
    gai = _find(exc, socket.gaierror)
    if isinstance(gai, socket.gaierror):
        return _dns_error(gai, str(host), details)
    tls = _find(exc, ssl.SSLError)
    if isinstance(tls, ssl.SSLError):
        return _tls_error(tls, details)
    if _find(exc, ConnectionRefusedError) is not None:
        return LagoConnectionRefused(
            hint=f"Check that Lago is running and listening on {host}:{where.get('port')}.",
            details=details,
        )
    os_error = _find(exc, OSError)
    if isinstance(os_error, OSError) and os_error.errno in UNREACHABLE_ERRNOS:
        return LagoConnectionError(
            "The Lago server cannot be reached from here.",
            hint="Check the network and firewall between Pier and Lago.",
            details=details,
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        return LagoConnectionError(
            "Lago closed the connection without answering.",
            hint="Try again. Check that the URL uses the right scheme and port.",
            details=details,
        )
    return LagoConnectionError(details=details)


def _dns_error(gai: socket.gaierror, host: str, details: dict[str, object]) -> LagoDNSError:
    if gai.errno in TEMPORARY_DNS_CODES:
        error = LagoDNSError(
            "The Lago server name could not be looked up right now.",
            hint="Check the network and DNS settings of the Pier server, then try again.",
            details=details,
        )
        error.transient = True
        return error
    return LagoDNSError(
        hint=f"Check the spelling of {host} in the Lago URL, and the Pier server's DNS settings.",
        details=details,
    )


def _tls_error(tls: ssl.SSLError, details: dict[str, object]) -> LagoTLSError:
    if isinstance(tls, ssl.SSLCertVerificationError):
        reason = getattr(tls, "verify_message", None) or "it could not be verified"
        return LagoTLSError(
            f"The certificate of the Lago server is not trusted ({reason}).",
            hint="Use a certificate from a trusted authority, or point Pier at your own CA bundle.",
            details={**details, "verify_code": getattr(tls, "verify_code", None)},
        )
    if getattr(tls, "reason", None) in (
        "WRONG_VERSION_NUMBER",
        "RECORD_LAYER_FAILURE",
        "PACKET_LENGTH_TOO_LONG",
    ):
        return LagoTLSError(
            "The Lago server does not speak HTTPS on this address.",
            hint="Try the URL with http:// instead, or check the port.",
            details=details,
        )
    return LagoTLSError(details=details)
