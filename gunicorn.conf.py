"""gunicorn's settings for Pier, read from the environment (gunicorn loads this file by itself
when started from the project's folder: `gunicorn app:app`).

Lago signs a webhook with a JWT that carries the whole body in the `X-Lago-Signature` header, so
the header field limit follows PIER_WEBHOOK_MAX_BYTES; gunicorn's default (8,190 bytes) would
refuse any Lago webhook over about 5.8 KB before Pier sees it.
"""

import os

from portal.config import webhook_header_limit, webhook_max_bytes

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
