"""Shared fixtures: the app on SQLite and PostgreSQL, clients per role, real Redis and SMTP."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import flask_migrate
import psycopg
import pytest
import redis
import sqlalchemy as sa
import time_machine
from flask.testing import FlaskClient

from portal import create_app
from portal.auth.session import open_session
from portal.extensions import db
from portal.models import Membership, Role, Tenant, User
from tests import servers
from tests.clock import START

pytest_plugins = [
    "tests.fixtures.smtp",
    "tests.fixtures.lago_standin",
    "tests.fixtures.stripe_standin",
]

BACKENDS = ("sqlite", "postgresql")
PASSWORD = "correct horse battery"
FAST_HASH = "pbkdf2:sha256:1000"


@pytest.fixture(autouse=True)
def pinned_clock():
    """Every test starts at START and time runs on from there (the monotonic clock is left
    alone, so timeouts still work)."""
    with time_machine.travel(START, tick=True) as traveller:
        yield traveller


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def redis_test_url():
    """A Redis database claimed by this test run alone (flushed between tests)."""
    with servers.claimed_redis_database() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    return servers.postgres_url()


def base_config(database_url: str, redis_url: str, mail_url: str = "console://") -> dict:
    """Settings every test app shares."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "MAIL_URL": mail_url,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "PIER_BASE_URL": "http://localhost",
        # Tests move Pier's clock by days and months between requests; tests/integration/
        # test_sessions.py sets the real limits where sign-ins running out is the subject.
        "SESSION_IDLE_MINUTES": 100 * 365 * 24 * 60,
        "SESSION_MAX_DAYS": 100 * 365,
    }


@pytest.fixture(scope="session")
def database_url_for(tmp_path_factory, postgres_admin_url, redis_test_url):
    """Create (once per session and backend) a migrated test database; returns its URL."""
    created: dict[str, str] = {}
    pg_name = f"pier_test_{_worker()}_{os.getpid()}"

    def get(backend: str) -> str:
        if backend not in created:
            if backend == "sqlite":
                url = "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "pier.sqlite3")
            else:
                with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
                    conn.execute(f'CREATE DATABASE "{pg_name}"')
                url = postgres_admin_url.rsplit("/", 1)[0] + "/" + pg_name
            migrated = create_app(base_config(url, redis_test_url))
            with migrated.app_context():
                flask_migrate.upgrade()
                db.engine.dispose()
            created[backend] = url
        return created[backend]

    yield get
    if "postgresql" in created:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def empty_tables() -> None:
    """Delete every row of every table (not the migration version)."""
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture(params=BACKENDS)
def db_backend(request) -> str:
    """Each database test runs on SQLite and on PostgreSQL."""
    return request.param


class PierClient(FlaskClient):
    """A test client that sends forms with a real CSRF token, as a browser would."""

    def csrf_token(self) -> str:
        page = self.get("/login", follow_redirects=True)
        match = re.search(rb'<meta name="csrf-token" content="([^"]+)"', page.data)
        assert match, "no CSRF token on the page"
        return match.group(1).decode()

    def submit(self, path: str, data: dict | None = None, *, htmx: bool = False, **kwargs):
        """POST a form with the CSRF token (in the body, or in the header for htmx)."""
        token = self.csrf_token()
        data = dict(data or {})
        headers = dict(kwargs.pop("headers", {}))
        if htmx:
            headers.update({"HX-Request": "true", "X-CSRFToken": token})
        else:
            data.setdefault("csrf_token", token)
        return self.post(path, data=data, headers=headers, **kwargs)


@pytest.fixture
def app(db_backend, database_url_for, redis_test_url, smtp_server):
    """The app on this test's database backend, emptied afterwards."""
    application = create_app(
        base_config(database_url_for(db_backend), redis_test_url, smtp_server.url)
    )
    application.test_client_class = PierClient
    yield application
    with application.app_context():
        db.session.remove()
        empty_tables()
        db.engine.dispose()
    redis.Redis.from_url(redis_test_url).flushdb()


@pytest.fixture
def client(app) -> PierClient:
    return app.test_client()


@dataclass(frozen=True)
class Person:
    """What a test needs to know about a user it created."""

    id: int
    email: str
    password: str
    tenant_id: int | None
    membership_id: int | None
    role: str | None


@pytest.fixture
def make_person(app):
    """Create a user, optionally in a tenant with a role, or a platform admin."""
    counter = iter(range(1, 10_000))

    def make(
        role: str | None = "member",
        *,
        tenant_id: int | None = None,
        admin: bool = False,
        email: str | None = None,
        tenant_name: str = "Acme Inc.",
    ) -> Person:
        n = next(counter)
        with app.app_context():
            user = User(
                email=email or f"person{n}@example.com", name=f"Person {n}", is_platform_admin=admin
            )
            user.set_password(PASSWORD)
            db.session.add(user)
            membership = None
            if role is not None:
                tenant = (
                    db.session.get(Tenant, tenant_id) if tenant_id else Tenant(name=tenant_name)
                )
                membership = Membership(user=user, tenant=tenant, role=Role(role))
                db.session.add(membership)
            db.session.commit()
            return Person(
                user.id,
                user.email,
                PASSWORD,
                membership.tenant_id if membership else None,
                membership.id if membership else None,
                role,
            )

    return make


def log_in(client: PierClient, person: Person) -> PierClient:
    """Open a session for the person and put its key in the client, as a successful log-in does."""
    with client.application.app_context():
        _, key = open_session(db.session.get(User, person.id), remember=False)
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True
    return client


@pytest.fixture
def as_role(app, make_person):
    """A logged-in client for a role: member, billing_admin, owner, admin, other_tenant."""

    def client_for(role: str, tenant_id: int | None = None) -> tuple[PierClient, Person]:
        if role == "admin":
            person = make_person(None, admin=True)
        elif role == "other_tenant":
            person = make_person("owner", tenant_name="Other Org")
        else:
            person = make_person(role, tenant_id=tenant_id)
        return log_in(app.test_client(), person), person

    return client_for
