"""Serve any WSGI app from a daemon thread on a local port (for tests, demos and stand-ins)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WSGIApp = Callable[..., Any]


class QuietRequestHandler(WSGIRequestHandler):
    """A request handler that does not log one line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip the access log line."""


class ThreadedServer:
    """A werkzeug threaded WSGI server running in a daemon thread."""

    def __init__(
        self, wsgi_app: WSGIApp, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True
    ) -> None:
        handler = QuietRequestHandler if quiet else WSGIRequestHandler
        self.server: BaseWSGIServer = make_server(
            host, port, wsgi_app, threaded=True, request_handler=handler
        )
        self.host = host
        self.port: int = self.server.server_port
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"wsgi-{self.port}",
            daemon=True,
        )
        self._stopped = False

    def start(self) -> ThreadedServer:
        """Start serving in the background and return self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (safe to call twice)."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()

    def __enter__(self) -> ThreadedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(
    wsgi_app: WSGIApp, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True
) -> ThreadedServer:
    """Start `wsgi_app` on host:port (0 = a free port) in a daemon thread; returns the server."""
    return ThreadedServer(wsgi_app, host, port, quiet=quiet).start()
