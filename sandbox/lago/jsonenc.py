"""JSON exactly as lago-api writes it: compact, UTF-8, with Rails' HTML-safe escapes."""

from __future__ import annotations

import json
from typing import Any

# ActiveSupport escapes these inside JSON strings (escape_html_entities_in_json is on in Rails).
_RAILS_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_TABLE = str.maketrans(_RAILS_ESCAPES)


def dumps(value: Any) -> str:
    """Compact JSON like `Hash#to_json` in Rails (those characters only ever occur in strings)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).translate(_TABLE)
