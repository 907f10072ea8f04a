"""gunicorn's settings for Pier, read from the environment (gunicorn loads this file by itself
when started from the project's folder: `gunicorn app:app`).

Lago signs a webhook with a JWT that carries the whole body in the `X-Lago-Signature` header, so
the header field limit follows PIER_WEBHOOK_MAX_BYTES; gunicorn's default (8,190 bytes) would
refuse any Lago webhook over about 5.8 KB before Pier sees it.
"""

import glob
import os
import shutil
import tempfile

# Metrics from several workers: each process writes its own files in this folder and a scrape
# of /metrics sums them. Set before anything imports prometheus_client (the workers inherit it).
_made_metrics_dir = None
if os.environ.get("PIER_METRICS_TOKEN") and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _made_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="pier-metrics-"
    )

from portal.config import webhook_header_limit, webhook_max_bytes  # noqa: E402
from portal.observability.logs import gunicorn_logconfig  # noqa: E402

bind = os.environ.get("PIER_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PIER_WORKERS", "2"))
threads = int(os.environ.get("PIER_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("PIER_TIMEOUT", "30"))
graceful_timeout = timeout
keepalive = int(os.environ.get("PIER_KEEPALIVE", "5"))

# A Lago JWT as large as the largest accepted body fits in one header field; fewer header
# fields than gunicorn's default 100 bound what one request's head may hold in memory.
limit_request_field_size = webhook_header_limit(webhook_max_bytes())
limit_request_fields = 50
limit_request_line = 8190

accesslog = os.environ.get("PIER_ACCESS_LOG") or None
errorlog = "-"
# gunicorn's own lines in the app's format (PIER_LOG_FORMAT: json in production, else text).
production = os.environ.get("PIER_ENV", "").lower() == "production"
logconfig_dict = gunicorn_logconfig(
    os.environ.get("PIER_LOG_FORMAT", "").strip().lower() or ("json" if production else "text"),
    os.environ.get("PIER_LOG_LEVEL", "").strip() or "INFO",
)


def on_starting(server):
    """Start the metrics from zero: drop the files an earlier run left in the folder."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for path in glob.glob(os.path.join(folder, "*.db")):
            os.remove(path)


def child_exit(server, worker):
    """A worker that exits leaves its counters to the sum, and its live gauges behind."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this file made (one named by the operator stays)."""
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
