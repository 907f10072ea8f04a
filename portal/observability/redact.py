"""Masking of secrets in log lines: keys, tokens, passwords and card numbers never reach a log.

Applied by the log formatters to every message and every extra field, so a careless
`log.info("%s", settings)` is masked too. Masked values keep a short recognisable head
(`sk_live_****`, `Bearer ****`, card `****4242`) so a line still says what was there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "****"
SENSITIVE_NAMES = re.compile(
    r"pass(word|wd)?|secret|token|api[_-]?key|authorization|cookie|signature|"
    r"card[_-]?number|cvc|cvv|encryption[_-]?keys?|private[_-]?key",
    re.IGNORECASE,
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Stripe secret and restricted keys, webhook signing secrets; Pier API tokens.
    (re.compile(r"\b((?:sk|rk)_(?:live|test)_|whsec_|pier_api_)[A-Za-z0-9_\-]+"), r"\1" + MASK),
    # Authorization headers and the like.
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]+", re.IGNORECASE), r"\1 " + MASK),
    # Passwords inside URLs: scheme://user:password@host
    (
        re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s/]+@", re.IGNORECASE),
        r"\1" + MASK + "@",
    ),
    # name=value, name: value, "name": "value" for a sensitive name.
    (
        re.compile(
            r"""(?P<head>["']?\b[\w\-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|"""
            r"""authorization|signature|credential|cvc|cvv)\b["']?\s*[=:]\s*["']?)(?!(?:Bearer|Basic)\s)"""
            r"""(?P<value>[^"'\s,;&}]+)""",
            re.IGNORECASE,
        ),
        r"\g<head>" + MASK,
    ),
)
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if 13 <= len(digits) <= 19 and _luhn(digits):
        return MASK + digits[-4:]
    return match.group(0)


def text(value: str) -> str:
    """The string with every secret it contains masked."""
    for pattern, replacement in _PATTERNS:
        value = pattern.sub(replacement, value)
    return _CARD.sub(_card, value)


def value(name: str, item: Any) -> Any:
    """A log field's value, masked whole when its name says it is secret."""
    if SENSITIVE_NAMES.search(name) and item not in (None, "", False):
        return MASK
    if isinstance(item, str):
        return text(item)
    if isinstance(item, Mapping):
        return {str(k): value(str(k), v) for k, v in item.items()}
    if isinstance(item, list | tuple):
        return [value(name, v) for v in item]
    return item
