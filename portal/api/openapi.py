"""The API's OpenAPI 3.1 document, written by hand beside this file."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from portal.api import bp

DOCUMENT = Path(__file__).with_name("openapi.json")


@cache
def document() -> dict:
    return json.loads(DOCUMENT.read_text())


@bp.get("/openapi.json")
def openapi_document():
    """Served without a token: it describes the API, it grants nothing."""
    return document()
