import os
import warnings

import flask_migrate
import psycopg
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal import create_app
from portal.extensions import db
from tests.conftest import base_config


def _script(app):
    config = app.extensions["migrate"].migrate.get_config(app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config)


def test_a_single_migration_head(app):
    with app.app_context():
        assert len(_script(app).get_heads()) == 1


def test_upgrade_from_empty_matches_the_models_and_downgrades(
    db_backend, tmp_path, postgres_admin_url, redis_test_url
):
    name = f"pier_migration_check_{os.getpid()}"
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path}/empty.sqlite3"
    else:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = postgres_admin_url.rsplit("/", 1)[0] + "/" + name
    app = create_app(base_config(url, redis_test_url))
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            with warnings.catch_warnings():
                # Expression indexes (lower(email)) cannot be reflected for comparison.
                warnings.simplefilter("ignore")
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert [d for d in diff if "uq_users_email_lower" not in str(d)] == []
            head = _script(app).get_current_head()
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head
        flask_migrate.downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        db.engine.dispose()
    if db_backend == "postgresql":
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
