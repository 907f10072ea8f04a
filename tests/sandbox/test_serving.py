"""serve_in_thread runs any WSGI app on a free port and stops cleanly."""

from __future__ import annotations

import httpx
import pytest

from sandbox.serving import ThreadedServer, serve_in_thread


def hello_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"hello {environ['PATH_INFO']}".encode()]


def test_serves_on_a_free_port_and_stops():
    server = serve_in_thread(hello_app)
    try:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(server.url + "/there", trust_env=False).text == "hello /there"
    finally:
        server.stop()
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, trust_env=False, timeout=1)


def test_context_manager_and_concurrent_requests():
    with ThreadedServer(hello_app).start() as server, httpx.Client(trust_env=False) as client:
        replies = [client.get(f"{server.url}/{n}").text for n in range(5)]
    assert replies == [f"hello /{n}" for n in range(5)]
