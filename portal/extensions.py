"""Flask extensions, created unbound here and bound in create_app."""

from __future__ import annotations

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis import Redis
from sqlalchemy import MetaData

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


def redis_key(*parts: str) -> str:
    """A Redis key of this Pier (`PIER_INSTANCE:...`): instances sharing a Redis never meet."""
    return ":".join((current_app.config["PIER_INSTANCE"], *parts))


def client_address_key() -> str:
    """Rate limits count per client address, per instance."""
    return redis_key("ip", get_remote_address() or "")


limiter = Limiter(key_func=client_address_key, default_limits=[])


def redis_connection() -> Redis:
    """The app's Redis connection (one pool per app)."""
    conn = current_app.extensions.get("pier_redis")
    if conn is None:
        conn = Redis.from_url(
            current_app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=2
        )
        current_app.extensions["pier_redis"] = conn
    return conn
