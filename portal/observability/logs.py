"""Log lines for the web app and the workers: one JSON object a line, or plain text.

`PIER_LOG_FORMAT=json` (the default in production) writes one JSON object per line with `ts`,
`level`, `logger`, `message`, `request_id` and any `extra=` fields; `text` (the default in
development) writes a readable line with the request id in brackets. Both mask secrets
(observability/redact.py). The standard library's `logging` is used rather than structlog so
that the lines of gunicorn, RQ, SQLAlchemy and httpx come out in the same shape as Pier's own.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from portal.observability import correlation, redact

FORMATS = ("json", "text")
# Libraries that log every HTTP request at INFO, full URL included (signed links among them).
QUIET = ("httpx", "httpcore", "urllib3")
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "taskName"}
)
_HANDLER_NAME = "pier"
_previous_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _previous_factory(*args, **kwargs)
    record.request_id = correlation.current()
    return record


def stamp_request_ids() -> None:
    """Give every log record the current correlation id as `request_id` (idempotent)."""
    if logging.getLogRecordFactory() is not _record_with_request_id:
        logging.setLogRecordFactory(_record_with_request_id)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra=` fields of a record, masked."""
    return {
        key: redact.value(key, item)
        for key, item in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


def _plain(item: Any) -> Any:
    if isinstance(item, str | int | float | bool) or item is None:
        return item
    return str(item)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact.text(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        line.update(extra_fields(record))
        if record.exc_info:
            line["exception"] = redact.text(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = redact.text(self.formatStack(record.stack_info))
        return json.dumps(line, default=_plain, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A readable line for development: time, level, logger, [request id], message, fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = getattr(record, "request_id", None) or "-"
        fields = extra_fields(record)
        line = redact.text(super().format(record))
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for PIER_LOG_FORMAT."""
    if log_format not in FORMATS:
        raise ValueError(f"PIER_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure(log_format: str, level: str = "INFO", stream=None) -> logging.Handler:
    """Send the root logger's lines to stderr (or `stream`) in `log_format`; replaces the
    handler an earlier call installed, and leaves other handlers alone."""
    stamp_request_ids()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for chatty in QUIET:  # Pier logs each of their calls itself, without the query string
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    return handler


def gunicorn_logconfig(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A `logconfig_dict` for gunicorn: its error and access logs in the same format."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"pier": {"()": formatter, "log_format": log_format}},
        "handlers": {
            _HANDLER_NAME: {
                "class": "logging.StreamHandler",
                "formatter": "pier",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": [_HANDLER_NAME]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": level.upper(), "handlers": [], "propagate": True},
        },
    }
