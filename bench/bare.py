"""The yardstick for the ingress: a bare Flask app whose webhook endpoint only reads the body.

The benchmark serves it with the same gunicorn.conf.py as the portal (`gunicorn bench.bare:app`)
and compares Pier's acknowledgements per second with this one's.
"""

from __future__ import annotations

from flask import Flask, Response, request

app = Flask(__name__)


@app.post("/webhooks/lago")
def lago() -> Response:
    request.get_data(cache=False)
    return Response(status=200)


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok")
