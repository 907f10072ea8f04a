"""The containers' health checks: `python -m portal.health.probe` (pier-web, the image's
HEALTHCHECK) against a real gunicorn, and `python -m jobs.health` (pier-worker) against a
worker registered in the test's Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq import Queue, Worker

from jobs import health, runtime
from portal.extensions import redis_connection
from portal.health.probe import healthz_url, probe
from portal.queues import instance_id, queue_name
from tests.gunicorn import ROOT, gunicorn


def run_probe(bind: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env |= {"PIER_BIND": bind, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "portal.health.probe"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("0.0.0.0:8000", "http://127.0.0.1:8000/healthz"),
        ("127.0.0.1:8123", "http://127.0.0.1:8123/healthz"),
        ("[::]:8000", "http://[::1]:8000/healthz"),
        (":9000", "http://127.0.0.1:9000/healthz"),
        ("pier.internal:8000, 127.0.0.1:8001", "http://pier.internal:8000/healthz"),
    ],
)
def test_the_probe_asks_the_bound_address_on_this_host(bind, url):
    assert healthz_url(bind) == url


@pytest.mark.parametrize("bind", ["unix:/run/pier.sock", "localhost", "0.0.0.0:http", ""])
def test_a_bind_the_probe_cannot_reach_is_refused_with_a_reason(bind):
    with pytest.raises(ValueError, match="PIER_BIND"):
        healthz_url(bind)


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_the_probe_passes_while_gunicorn_serves_pier_and_fails_once_it_stops(
    app, database_url_for, redis_test_url, tmp_path
):
    with gunicorn(database_url_for("postgresql"), redis_test_url, tmp_path / "log") as server:
        port = server.url.rsplit(":", 1)[1]
        running = run_probe(f"0.0.0.0:{port}")  # as in the container: the wildcard bind
        assert running.returncode == 0, running.stderr
    stopped = run_probe(f"0.0.0.0:{port}")
    assert stopped.returncode == 1
    assert f"http://127.0.0.1:{port}/healthz" in stopped.stderr


@pytest.fixture
def answering():
    """A server whose /healthz answers with the status and body a test sets."""
    reply = {"status": 200, "body": b'{"status": "ok"}'}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(reply["status"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(reply["body"])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield reply, f"http://127.0.0.1:{server.server_address[1]}/healthz"
    server.shutdown()
    server.server_close()


def test_the_probe_fails_on_an_error_status_or_an_unexpected_body(answering):
    reply, url = answering
    assert probe(url) is None
    reply["status"] = 503
    assert probe(url) == f"{url} answered 503"
    reply.update(status=200, body=b'{"status": "starting"}')
    assert "starting" in probe(url)
    reply["body"] = b"<html>a proxy page</html>"
    assert probe(url).startswith(url)


@pytest.fixture
def worker_app(app):
    runtime.use_app(app)
    yield app
    runtime._app = None


def registered_worker(queues: list[str], name: str) -> Worker:
    connection = redis_connection()
    worker = Worker(
        [Queue(q, connection=connection) for q in queues], connection=connection, name=name
    )
    worker.register_birth()
    return worker


def test_the_worker_check_finds_this_hosts_worker_until_it_is_gone(worker_app):
    host = socket.gethostname()
    with worker_app.app_context():
        assert health.live_workers(redis_connection(), host) == []
        assert health.main() == 1
        worker = registered_worker([queue_name("emails")], instance_id())
        found = health.live_workers(redis_connection(), host)
        assert [w.name for w in found] == [worker.name]
        assert health.live_workers(redis_connection(), "another-host") == []
    assert health.main() == 0
    with worker_app.app_context():
        redis_connection().delete(worker.key)  # its registration expired: no heartbeats
        assert health.live_workers(redis_connection(), host) == []
    assert health.main() == 1


def test_another_instances_worker_on_this_host_does_not_count(worker_app):
    with worker_app.app_context():
        registered_worker(["staging:emails", "staging:webhooks"], "staging-worker")
        assert health.live_workers(redis_connection(), socket.gethostname()) == []
    assert health.main() == 1
