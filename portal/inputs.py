"""What Pier accepts from a request, before any view sees it.

- Ids in URLs fit the database's integer columns: a larger one matches no route (404).
- Page numbers are clamped to a range the database can offset by.
- Query-string and form values lose NUL bytes (PostgreSQL refuses them in text); a path that
  holds one matches nothing (404).
- A streamed (chunked) body larger than MAX_CONTENT_LENGTH is refused with 413, never cut short
  and processed.
"""

from __future__ import annotations

from flask import Flask, Request, abort, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_input_stream

# PostgreSQL's `integer`: the widest id column Pier has.
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000


class IdConverter(IntegerConverter):
    """`<int:...>` in Pier's routes: a non-negative integer no larger than an id column holds."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def page_number(name: str = "page") -> int:
    """The page a list asks for, from 1 to MAX_PAGE (anything unreadable is page 1)."""
    try:
        wanted = int(request.args.get(name, "1"))
    except ValueError:
        return 1
    return min(max(wanted, 1), MAX_PAGE)


class NulFreeMultiDict(ImmutableMultiDict):
    """Query and form values with NUL bytes removed from keys and values."""

    def __init__(self, mapping=None):
        if mapping is not None and not isinstance(mapping, dict):
            mapping = [(_without_nul(key), _without_nul(value)) for key, value in (mapping or ())]
        super().__init__(mapping)


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class _StreamedBodyLimit(LimitedStream):
    """A streamed body read up to `limit` bytes; one byte more is 413."""

    def __init__(self, stream, limit: int) -> None:
        super().__init__(stream, limit + 1, is_max=True)
        self.allowed = limit

    def readinto(self, b) -> int | None:
        size = super().readinto(b)
        if self._pos > self.allowed:
            raise RequestEntityTooLarge()
        return size


class PierRequest(Request):
    """Flask's request with the rules above."""

    parameter_storage_class = NulFreeMultiDict

    @cached_property
    def stream(self):
        limit = self.max_content_length
        streamed = self.content_length is None and self.environ.get("wsgi.input_terminated")
        if streamed and limit is not None:
            return _StreamedBodyLimit(self.environ["wsgi.input"], limit)
        return get_input_stream(self.environ, max_content_length=limit)


def init_app(app: Flask) -> None:
    """Install the request class and the id converter (before any route is registered)."""
    app.request_class = PierRequest
    app.url_map.converters["int"] = IdConverter

    @app.before_request
    def refuse_nul_in_path():
        if "\x00" in request.path:
            abort(404)
