"""Serve Pier with a real gunicorn from the project folder, so it loads gunicorn.conf.py."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import base_config
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Gunicorn:
    url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def gunicorn(database_url: str, redis_url: str, log: Path, **settings: str) -> Iterator[Gunicorn]:
    """gunicorn serving app:app on a free port with the test's database and Redis; its log
    (gunicorn's and the app's) goes to `log`."""
    port = free_port()
    config = base_config(database_url, redis_url)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.pop("PIER_WEBHOOK_MAX_BYTES", None)
    env |= {
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "SECRET_KEY": config["SECRET_KEY"],
        "PIER_BIND": f"127.0.0.1:{port}",
        "PYTHONPATH": str(ROOT),
        **settings,
    }
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        command = [sys.executable, "-m", "gunicorn", "app:app"]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, "gunicorn exited:\n" + log.read_text()
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url + "/healthz", timeout=1, trust_env=False).is_success:
                        break
                assert time.monotonic() < deadline, "gunicorn did not answer in time"
                time.sleep(0.2)
            yield Gunicorn(url, log)
        finally:
            process.terminate()
            process.wait(15)
