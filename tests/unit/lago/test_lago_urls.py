"""Normalising and validating the Lago URL an administrator types."""

from __future__ import annotations

import pytest

from portal.lago import LagoInvalidURL, normalize_api_url


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("https://api.getlago.com", "https://api.getlago.com"),
        ("https://api.getlago.com/", "https://api.getlago.com"),
        ("https://api.getlago.com/api/v1", "https://api.getlago.com"),
        ("https://api.getlago.com/api/v1/", "https://api.getlago.com"),
        ("https://api.eu.getlago.com//api/v1//", "https://api.eu.getlago.com"),
        ("http://localhost:3000", "http://localhost:3000"),
        (" HTTP://LOCALHOST:3000/api/v1 ", "http://localhost:3000"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("http://[::1]:3000/api/v1", "http://[::1]:3000"),
        ("https://billing.example.com/lago", "https://billing.example.com/lago"),
        ("https://billing.example.com/lago/api/v1", "https://billing.example.com/lago"),
        ("http://lago_api:3000", "http://lago_api:3000"),
    ],
)
def test_normalises(typed, expected):
    assert normalize_api_url(typed) == expected


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("api.getlago.com", "http:// or https://"),
        ("localhost:3000", "http:// or https://"),
        ("ftp://lago.example.com", "http:// or https://"),
        ("https://", "no server name"),
        ("https://exa mple.com", "spaces"),
        ("https://-bad-.example.com", "invalid server name"),
        ("https://bad..example.com", "invalid server name"),
        ("http://localhost:99999", "port"),
        ("http://localhost:0", "port"),
        ("http://localhost:abc", "port"),
        ("https://user:secret@lago.example.com", "user name or password"),
        ("https://lago.example.com/?x=1", "? or #"),
        ("http://[::1", "Lago URL"),
    ],
)
def test_refuses_malformed_urls(typed, says):
    with pytest.raises(LagoInvalidURL) as caught:
        normalize_api_url(typed)
    assert says in caught.value.message
    assert caught.value.hint


def test_missing_scheme_hint_suggests_https():
    with pytest.raises(LagoInvalidURL) as caught:
        normalize_api_url("api.getlago.com")
    assert caught.value.hint == "Try https://api.getlago.com (or http:// for a local Lago)."
