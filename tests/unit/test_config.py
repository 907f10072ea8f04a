import pytest

from portal import config as settings
from portal import create_app


def test_database_url_spellings_use_psycopg3():
    assert settings.normalise_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert settings.normalise_database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert settings.normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_defaults_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("PIER_ENCRYPTION_KEYS", "k1, k2,")
    config = settings.from_environment(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/pier.sqlite3"
    assert config["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert config["PIER_ENCRYPTION_KEYS"] == ["k1", "k2"]


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.setenv("PIER_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PIER_ENCRYPTION_KEYS", "x")
    with pytest.raises(settings.ConfigError, match="Set SECRET_KEY"):
        create_app()


def test_production_refuses_to_run_without_encryption_keys(monkeypatch):
    monkeypatch.setenv("PIER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.delenv("PIER_ENCRYPTION_KEYS", raising=False)
    with pytest.raises(settings.ConfigError, match="Set PIER_ENCRYPTION_KEYS"):
        create_app()


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("PIER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.setenv("PIER_ENCRYPTION_KEYS", "x")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_bad_number_setting_says_which(monkeypatch, tmp_path):
    monkeypatch.setenv("PIER_MAX_BODY_BYTES", "lots")
    with pytest.raises(settings.ConfigError, match="PIER_MAX_BODY_BYTES"):
        settings.from_environment(str(tmp_path))


def test_the_instance_name_is_set_or_derived_from_the_database(monkeypatch):
    monkeypatch.delenv("PIER_INSTANCE", raising=False)
    first = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://pier:one@db/pier"})
    rotated = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://pier:two@db/pier"})
    other = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://pier:one@db/staging"})
    assert first.config["PIER_INSTANCE"].startswith("pier-")
    assert first.config["PIER_INSTANCE"] == rotated.config["PIER_INSTANCE"]  # not the password
    assert first.config["PIER_INSTANCE"] != other.config["PIER_INSTANCE"]
    monkeypatch.setenv("PIER_INSTANCE", "production")
    assert create_app().config["PIER_INSTANCE"] == "production"


def test_a_malformed_instance_name_is_refused(monkeypatch):
    monkeypatch.setenv("PIER_INSTANCE", "prod:eu")
    with pytest.raises(settings.ConfigError, match="PIER_INSTANCE names this Pier"):
        create_app()


def test_gunicorn_fits_a_lago_jwt_of_the_largest_accepted_body(monkeypatch):
    import json
    import runpy
    from pathlib import Path

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PIER_WEBHOOK_MAX_BYTES", "65536")
    shipped = runpy.run_path(str(root / "gunicorn.conf.py"))
    invoice = (root / "tests/fixtures/payloads/lago/invoice.created.json").read_text()
    body = json.dumps([json.loads(invoice)] * 40, separators=(",", ":"))[:65536]
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    token = jwt.encode({"data": body, "iss": "https://lago.example.com"}, key, algorithm="RS256")
    assert len(body) == 65536
    assert shipped["limit_request_field_size"] == settings.webhook_header_limit(65536)
    assert len(token) < shipped["limit_request_field_size"] < 2 * len(token)


@pytest.mark.parametrize("hops", ["-1", "6"])
def test_a_proxy_count_out_of_range_is_refused(monkeypatch, hops):
    monkeypatch.setenv("PIER_PROXY_HOPS", hops)
    with pytest.raises(settings.ConfigError, match="PIER_PROXY_HOPS counts the reverse proxies"):
        create_app()
