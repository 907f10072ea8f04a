"""Log lines: one JSON object per line (or readable text), the request id on each, secrets
masked whatever way they reach a line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from portal import config
from portal.observability import correlation, logs, redact

CARD = "4242 4242 4242 4242"


@pytest.mark.parametrize(
    ("line", "secret", "kept"),
    [
        ("key sk_live_51HxYz0123456789abc", "51HxYz0123456789abc", "sk_live_****"),
        ("restricted rk_test_abcDEF123456", "abcDEF123456", "rk_test_****"),
        ("signing whsec_9f8e7d6c5b4a", "9f8e7d6c5b4a", "whsec_****"),
        ("token pier_api_Zx9-abcdefghijkl", "Zx9-abcdefghijkl", "pier_api_****"),
        ("Authorization: Bearer eyJhbGciOi.JIUzI1.NiJ9", "eyJhbGciOi", "Bearer ****"),
        ("MAIL_URL=smtp://mailer:hunter2@smtp.example:587", "hunter2", "mailer:****@"),
        ("login with password=correct-horse", "correct-horse", "password=****"),
        ('{"api_key": "lago-key-123", "name": "Acme"}', "lago-key-123", '"name": "Acme"'),
        (f"card {CARD} declined", "4242 4242 4242 4242", "****4242"),
        ("card 4000-0000-0000-0002 declined", "4000-0000-0000-0002", "****0002"),
        (
            "GET https://s3.test/inv.pdf?X-Amz-Credential=AKIA1%2F2026&X-Amz-Signature=9f8e7d",
            "9f8e7d",
            "X-Amz-Signature=****",
        ),
    ],
)
def test_secrets_are_masked_in_any_line(line, secret, kept):
    masked = redact.text(line)
    assert secret not in masked
    assert kept in masked


def test_numbers_that_are_not_card_numbers_stay():
    # An invoice number of card length that fails the Luhn check, and a Unix time.
    line = "invoice 2026000000000001 at 1795788000"
    assert redact.text(line) == line


def test_fields_with_secret_names_are_masked_whole_and_nested():
    masked = redact.value(
        "settings",
        {"api_key": "k-1", "webhook_secret": "s", "name": "Acme", "tokens": ["t1"], "url": "x"},
    )
    assert masked == {
        "api_key": "****",
        "webhook_secret": "****",
        "name": "Acme",
        "tokens": "****",
        "url": "x",
    }


def _one_line(formatter: logging.Formatter, message: str, *args, exc_info=None, **extra) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error(message, *args, exc_info=exc_info, extra=extra)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_a_json_line_is_one_object_with_the_request_id_and_masked_fields():
    logs.stamp_request_ids()
    try:
        raise ValueError("Stripe refused sk_test_abcdef123456\nsecond line")
    except ValueError as exc:
        error = exc
    with correlation.bound("trace-42"):
        text = _one_line(
            logs.formatter("json"),
            "calling %s",
            "Lago",
            exc_info=(type(error), error, error.__traceback__),
            password="hunter2",
            duration_ms=12.5,
        )
    assert text.count("\n") == 1, "one line per record, the traceback included"
    line = json.loads(text)
    assert line["request_id"] == "trace-42"
    assert line["message"] == "calling Lago"
    assert line["level"] == "error"
    assert line["logger"] == "tests.logs"
    assert line["password"] == "****"
    assert line["duration_ms"] == 12.5
    assert "ValueError" in line["exception"]
    assert "abcdef123456" not in text


def test_a_text_line_shows_the_request_id_and_masks_too():
    logs.stamp_request_ids()
    with correlation.bound("trace-7"):
        text = _one_line(logs.formatter("text"), "key %s", "sk_live_abc123", token="t")
    assert "[trace-7] key sk_live_****" in text
    assert "token=****" in text
    assert "abc123" not in text


def test_a_line_outside_any_request_has_no_id():
    logs.stamp_request_ids()
    assert json.loads(_one_line(logs.formatter("json"), "idle"))["request_id"] is None


def test_the_log_format_setting_is_checked(monkeypatch):
    monkeypatch.setenv("PIER_LOG_FORMAT", "xml")
    settings = config.from_environment("/tmp/pier-instance")
    with pytest.raises(config.ConfigError, match="PIER_LOG_FORMAT"):
        config.check(settings | {"PIER_INSTANCE": "pier-test"})
    monkeypatch.setenv("PIER_LOG_FORMAT", "")
    monkeypatch.setenv("PIER_ENV", "production")
    assert config.from_environment("/tmp/pier-instance")["PIER_LOG_FORMAT"] == "json"
    monkeypatch.setenv("PIER_ENV", "development")
    assert config.from_environment("/tmp/pier-instance")["PIER_LOG_FORMAT"] == "text"


def test_ids_from_outside_are_carried_only_when_short_and_printable():
    assert correlation.accepted("abc-123") == "abc-123"
    assert correlation.accepted("x" * 65) is None
    assert correlation.accepted("evil\nline") is None
    assert correlation.accepted("") is None


def test_configure_writes_json_lines_and_quiets_url_loggers():
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in logs.QUIET}
    stream = io.StringIO()
    handler = logs.configure("json", "INFO", stream=stream)
    try:
        assert logs.configure("json", "INFO", stream=stream) is not handler
        assert [h for h in root.handlers if h.get_name() == "pier"] == [root.handlers[-1]]
        handler = root.handlers[-1]
        logging.getLogger("httpx").info("HTTP Request: GET https://lago.test/?token=abc")
        logging.getLogger("portal.test").info("hello")
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["hello"]
