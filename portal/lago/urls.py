"""Validate and normalise the Lago API URL typed by an administrator."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit

from portal.lago.errors import LagoInvalidURL

API_PREFIX = "/api/v1"
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def _check_host(host: str) -> None:
    if not host:
        raise LagoInvalidURL("The Lago URL has no server name.")
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    labels = ascii_host.rstrip(".").split(".")
    if not ascii_host or len(ascii_host) > 253 or not all(HOST_LABEL.match(x) for x in labels):
        raise LagoInvalidURL(f"The Lago URL has an invalid server name: {host!r}.")


def normalize_api_url(url: str) -> str:
    """`https://API.example.com/api/v1/` becomes `https://api.example.com`."""
    text = (url or "").strip()
    if not text:
        raise LagoInvalidURL("The Lago URL is empty.")
    if "://" not in text:
        raise LagoInvalidURL(
            "The Lago URL must start with http:// or https://.",
            hint=f"Try https://{text} (or http:// for a local Lago).",
        )
    if any(c.isspace() for c in text):
        raise LagoInvalidURL("The Lago URL must not contain spaces.")
    try:
        parts = urlsplit(text)
    except ValueError:
        raise LagoInvalidURL("The Lago URL has an invalid server address.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise LagoInvalidURL("The Lago URL must start with http:// or https://.")
    if parts.username is not None or parts.password is not None:
        raise LagoInvalidURL("The Lago URL must not contain a user name or password.")
    if parts.query or parts.fragment:
        raise LagoInvalidURL("The Lago URL must not contain ? or #.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise LagoInvalidURL("The Lago URL has an invalid port number.")
    host = (parts.hostname or "").lower()
    _check_host(host)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = parts.path.rstrip("/")
    if path.lower().endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)].rstrip("/")
    return f"{scheme}://{netloc}{quote(path, safe='/%')}"
