"""The real PostgreSQL and Redis servers the tests use.

By default the tests use the servers on 127.0.0.1 (PIER_TEST_POSTGRES_URL and
PIER_TEST_REDIS_URL override them). Where none answers, a throwaway server is
started from the installed binaries in a temporary folder and stopped at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

import psycopg
import redis

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_HELD: list[socket.socket] = []


def refusing_port() -> int:
    """A loopback port that refuses connections for the rest of the run: the socket stays bound
    but never listens, so no other server can take the port in the meantime."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    return sock.getsockname()[1]


def _postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def _postgres_bin(name: str) -> str:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1:]
    if not found:
        raise RuntimeError(f"PostgreSQL is not running and {name} is not installed to start one.")
    return found if isinstance(found, str) else found[0]


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root; run the throwaway server as the postgres user then.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start_postgres() -> str:
    """Start a throwaway PostgreSQL cluster and return its URL."""
    folder = tempfile.mkdtemp(prefix="pier-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = os.path.join(folder, "data"), free_port()
    subprocess.run(
        _as_postgres_user([_postgres_bin("initdb"), "-D", data, "-U", "postgres", "-A", "trust"]),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres_user(
            [
                _postgres_bin("pg_ctl"),
                "-D",
                data,
                "-w",
                "-l",
                os.path.join(folder, "log"),
                "-o",
                f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )

    def stop():
        subprocess.run(
            _as_postgres_user([_postgres_bin("pg_ctl"), "-D", data, "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def start_redis() -> str:
    """Start a throwaway Redis server and return its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("Redis is not running and redis-server is not installed to start one.")
    folder, port = tempfile.mkdtemp(prefix="pier-redis-"), free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            folder,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not _redis_answers(url):
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the throwaway Redis server did not start")
        time.sleep(0.05)

    def stop():
        process.terminate()
        process.wait(5)
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    return url


@contextlib.contextmanager
def claimed_redis_database():
    """Claim a free database number (1-15) on the test Redis for this process, so that
    concurrent test runs never flush each other's data; yields its URL."""
    base = redis_url().rsplit("/", 1)[0]
    control = redis.Redis.from_url(base + "/0")
    for index in range(1, 16):
        key = f"pier:test-claim:{index}"
        if control.set(key, os.getpid(), nx=True, ex=6 * 3600):
            try:
                redis.Redis.from_url(f"{base}/{index}").flushdb()
                yield f"{base}/{index}"
            finally:
                control.delete(key)
            return
    raise RuntimeError("every Redis database 1-15 is claimed by other test runs")


def postgres_url() -> str:
    """An admin URL of a PostgreSQL server the tests may create databases on."""
    url = os.environ.get("PIER_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    return url if _postgres_answers(url) else start_postgres()


def redis_url() -> str:
    """The URL of a Redis server the tests may use."""
    url = os.environ.get("PIER_TEST_REDIS_URL", DEFAULT_REDIS)
    return url if _redis_answers(url) else start_redis()
