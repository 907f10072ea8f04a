"""`python -m sandbox.lago` serves the stand-in and prints its URL and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def test_cli_serves_until_terminated(tmp_path):
    command = [
        sys.executable,
        "-m",
        "sandbox.lago",
        "--port",
        "0",
        "--seed",
        "--db",
        str(tmp_path / "lago.sqlite3"),
        "--api-key",
        "cli-key",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        first, second = process.stdout.readline(), process.stdout.readline()
        url = first.split(" on ")[1].split()[0]
        assert second.strip() == "API key: cli-key"
        assert httpx.get(url + "/health", trust_env=False).json()["message"] == "Success"
        plans = httpx.get(
            url + "/api/v1/plans", headers={"Authorization": "Bearer cli-key"}, trust_env=False
        ).json()
        assert [p["code"] for p in plans["plans"]] == ["business", "pro", "starter"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    assert (tmp_path / "lago.sqlite3").exists()
