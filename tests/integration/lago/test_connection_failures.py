"""Real sockets on 127.0.0.1: each way a Lago connection fails maps to the right error."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from portal.lago import (
    LagoAuthError,
    LagoClient,
    LagoConnectionRefused,
    LagoDNSError,
    LagoNotLagoAPI,
    LagoTimeout,
    LagoTLSError,
)
from tests.certificates import self_signed_certificate
from tests.servers import refusing_port

GOOD_KEY = "good-key"
UNRESOLVABLE_HOST = "pier-lago-test.invalid"
HEALTH = {
    "version": "v1.51.0",
    "github_url": "https://github.com/getlago/lago-api",
    "message": "Success",
}
ORGANIZATION = {"organization": {"lago_id": "0f0f0f0f-0000-4000-8000-000000000001", "name": "Demo"}}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], list[bytes]]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Talk to 127.0.0.1 directly even if the machine has proxy variables."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


class _Quiet(WSGIRequestHandler):
    def log(self, kind: str, message: str, *args: Any) -> None:
        """Keep test output clean."""


class Server:
    """A werkzeug server in a daemon thread, optionally behind TLS."""

    def __init__(self, app: WSGIApp, ssl_context: ssl.SSLContext | None = None) -> None:
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_Quiet, ssl_context=ssl_context
        )
        scheme = "https" if ssl_context else "http"
        self.port = self._server.server_port
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(app: WSGIApp, ssl_context: ssl.SSLContext | None = None) -> Server:
        server = Server(app, ssl_context)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def json_reply(start_response: Callable[..., Any], status: str, body: Any) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def lago_like(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Health for anyone; the API only with the good key, else Lago's 401 body."""
    if environ["PATH_INFO"] == "/health":
        return json_reply(start_response, "200 OK", HEALTH)
    if environ.get("HTTP_AUTHORIZATION") != f"Bearer {GOOD_KEY}":
        return json_reply(
            start_response, "401 Unauthorized", {"status": 401, "error": "Unauthorized"}
        )
    return json_reply(start_response, "200 OK", ORGANIZATION)


def web_page(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """What a Lago front-end or any website answers: an HTML page for every path."""
    page = b"<!doctype html><html><head><title>Lago</title></head><body><div id=root></div></body>"
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [page]


def client(url: str, **kwargs: Any) -> LagoClient:
    kwargs.setdefault("api_key", GOOD_KEY)
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("connect_timeout", 1.0)
    kwargs.setdefault("read_timeout", 1.0)
    return LagoClient(url, kwargs.pop("api_key"), **kwargs)


@pytest.fixture
def tls_server(serve, tmp_path) -> tuple[Server, Path]:
    cert_path, key_path = self_signed_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return serve(lago_like, context), cert_path


def within(seconds: float, call: Callable[[], Any]) -> BaseException | None | bool:
    """Run `call` in a daemon thread: its exception (or None), or False if still running."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # handed back to the test thread
            outcome.append(exc)
        else:
            outcome.append(None)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    return outcome[0] if outcome else False


def test_closed_port_is_connection_refused():
    port = refusing_port()
    with client(f"http://127.0.0.1:{port}") as lago, pytest.raises(LagoConnectionRefused) as caught:
        lago.get_organization()
    assert caught.value.details["port"] == port
    assert f"127.0.0.1:{port}" in caught.value.hint


def test_closed_port_is_retried_for_reads_then_given_up():
    sleeps: list[float] = []
    lago = client(f"http://127.0.0.1:{refusing_port()}", max_retries=2, sleep=sleeps.append)
    with lago, pytest.raises(LagoConnectionRefused):
        lago.health()
    assert len(sleeps) == 2


def test_unresolvable_host_is_a_dns_error():
    # httpx's connect timeout does not cover name resolution, and a resolver that drops a
    # query makes glibc wait its full 5 s timeout, so the test bounds each lookup itself.
    with client(f"http://{UNRESOLVABLE_HOST}:3000") as lago:
        for _ in range(3):  # a slow lookup is rare; three in a row means the resolver hangs
            outcome = within(1.5, lago.health)
            if outcome is not False:
                break
        else:
            pytest.skip("name resolution takes over 1.5 s on this machine")
    assert isinstance(outcome, LagoDNSError)
    assert UNRESOLVABLE_HOST in outcome.hint
    assert not outcome.transient


def test_self_signed_certificate_is_a_tls_error(tls_server):
    server, _ = tls_server
    with client(server.url) as lago, pytest.raises(LagoTLSError) as caught:
        lago.health()
    assert "self-signed" in caught.value.message
    assert not caught.value.transient


def test_self_signed_certificate_is_accepted_when_trusted(tls_server):
    server, cert_path = tls_server
    with client(server.url, verify=str(cert_path)) as lago:
        assert lago.health().version == "v1.51.0"


def test_https_to_a_plain_http_port_is_a_tls_error(serve):
    server = serve(lago_like)
    with (
        client(server.url.replace("http://", "https://")) as lago,
        pytest.raises(LagoTLSError) as caught,
    ):
        lago.health()
    assert "http://" in caught.value.hint


def test_html_page_is_not_the_lago_api(serve):
    server = serve(web_page)
    with client(server.url) as lago:
        with pytest.raises(LagoNotLagoAPI):
            lago.health()
        with pytest.raises(LagoNotLagoAPI):
            lago.get_organization()


def test_slow_server_is_a_read_timeout(serve):
    release = threading.Event()

    def slow(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        release.wait(2)
        return json_reply(start_response, "200 OK", HEALTH)

    server = serve(slow)
    started = time.monotonic()
    try:
        with client(server.url, read_timeout=0.3) as lago, pytest.raises(LagoTimeout) as caught:
            lago.health()
    finally:
        release.set()
    assert caught.value.phase == "read"
    assert time.monotonic() - started < 1.5


def test_wrong_key_is_an_auth_error_but_health_works(serve):
    server = serve(lago_like)
    with client(server.url, api_key="wrong-key") as lago:
        assert lago.health().ok
        with pytest.raises(LagoAuthError) as caught:
            lago.get_organization()
    assert caught.value.message == "Lago rejected the API key."


def test_good_key_reads_the_organization(serve):
    server = serve(lago_like)
    with client(server.url + "/api/v1/") as lago:
        assert lago.get_organization().name == "Demo"
