"""Under gunicorn with two workers (gunicorn.conf.py's multiprocess set-up), one scrape of
/metrics sums what every worker counted, and the log is one JSON object per line."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.gunicorn import gunicorn

pytestmark = pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)

TOKEN = "gunicorn-metrics-token"  # noqa: S105
LOGIN = {"endpoint": "auth.login", "method": "GET", "status": "200"}


def _served_by_each_worker(folder: Path) -> dict[str, float]:
    """GET /login answers counted in each worker's own file, by the worker's pid."""
    counted = {}
    for path in folder.glob("counter_*.db"):
        for family in MultiProcessCollector.merge([str(path)], accumulate=True):
            for sample in family.samples:
                if sample.name == "pier_http_requests_total" and sample.labels == LOGIN:
                    counted[path.stem.split("_")[-1]] = sample.value
    return counted


def _scraped(url: str) -> float:
    response = httpx.get(
        url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False
    )
    assert response.status_code == 200
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "pier_http_requests_total" and sample.labels == LOGIN
    )


def _get_login(url: str) -> int:
    headers = {"Connection": "close"}
    return httpx.get(url + "/login", headers=headers, timeout=30, trust_env=False).status_code


def test_a_scrape_sums_the_counts_of_both_workers(app, database_url_for, redis_test_url, tmp_path):
    folder = tmp_path / "metrics"
    settings = {
        "PIER_WORKERS": "2",
        "PIER_THREADS": "1",  # sync workers: concurrent requests spread over both
        "PIER_METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "PIER_LOG_FORMAT": "json",
    }
    url = database_url_for("postgresql")
    with gunicorn(url, redis_test_url, tmp_path / "gunicorn.log", **settings) as server:
        sent = 0
        with ThreadPoolExecutor(max_workers=6) as pool:
            for _ in range(10):  # until both workers have answered some
                statuses = list(pool.map(lambda _: _get_login(server.url), range(12)))
                assert statuses == [200] * len(statuses)
                sent += len(statuses)
                if len(_served_by_each_worker(folder)) >= 2:
                    break
        per_worker = _served_by_each_worker(folder)
        assert len(per_worker) == 2, per_worker
        assert sum(per_worker.values()) == sent
        assert _scraped(server.url) == sent

        lines = [line for line in server.log_text().splitlines() if line.strip()]
        logged = [json.loads(line) for line in lines]  # every line is one JSON object
        served = [
            line
            for line in logged
            if line.get("endpoint") == "auth.login" and line.get("status") == 200
        ]
        assert len(served) == sent
        assert all(line["request_id"] for line in served)
        assert any("Booting worker" in line["message"] for line in logged)
