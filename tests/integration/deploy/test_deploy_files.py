"""docker-compose.yml and the Dockerfile keep the properties a deployment relies on.

`make check-deploy` validates the same files with docker-compose and hadolint; these tests read
them as data, so a change that loses one of the properties below fails here with its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
LAGO_KEY_PATH = "/app/config/keys/private.pem"  # lago-api's config/initializers/rsa_keys.rb
LAGO_BACKEND = ("lago-migrate", "lago-api", "lago-worker", "lago-clock")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def one_shot(services: dict) -> set[str]:
    """Services others wait for to finish (service_completed_successfully)."""
    return {
        name
        for service in services.values()
        for name, rule in (service.get("depends_on") or {}).items()
        if rule["condition"] == "service_completed_successfully"
    }


def test_pier_lago_and_their_stores_are_all_there(services):
    expected = {
        "pier-db", "pier-redis", "pier-migrate", "pier-web", "pier-worker",
        "lago-db", "lago-redis", "lago-migrate", "lago-api", "lago-worker", "lago-clock",
        "lago-front",
    }  # fmt: skip
    assert expected <= set(services)
    assert services["pier-worker"]["command"] == ["python", "-m", "jobs.worker"]
    assert services["pier-migrate"]["command"] == ["flask", "--app", "app", "db", "upgrade"]
    assert services["lago-migrate"]["command"] == ["./scripts/migrate.sh"]
    for name in ("lago-api", "lago-worker", "lago-clock", "lago-migrate"):
        assert services[name]["image"].startswith("getlago/api:"), name
    assert services["lago-front"]["image"].startswith("getlago/front:")


def test_lagos_rsa_key_is_a_mounted_file_and_never_inline(compose, services):
    secret = compose["secrets"]["lago_rsa_private_key"]
    assert set(secret) == {"file"}
    for name in LAGO_BACKEND:
        mounts = services[name].get("secrets") or []
        targets = {m["target"] for m in mounts if m["source"] == "lago_rsa_private_key"}
        assert targets == {LAGO_KEY_PATH}, name
    text = (ROOT / "docker-compose.yml").read_text()
    assert "LAGO_RSA_PRIVATE_KEY:" not in text
    assert "BEGIN RSA PRIVATE KEY" not in text and "BEGIN PRIVATE KEY" not in text
    for name, service in services.items():
        assert "LAGO_RSA_PRIVATE_KEY" not in (service.get("environment") or {}), name


def test_every_service_is_checked_or_is_a_one_shot_others_wait_for(services):
    completed = one_shot(services)
    assert {"pier-migrate", "lago-migrate"} <= completed
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        if name in completed:
            assert service["restart"] == "no", f"{name} runs once"
            continue
        has_check = bool(check.get("test")) and not check.get("disable")
        waits_for_one_shot = bool(completed & set(service.get("depends_on") or {}))
        assert has_check or waits_for_one_shot, f"{name} has no health check"


def test_long_running_services_wait_for_healthy_dependencies(services):
    completed = one_shot(services)
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} waits for unknown {dependency}"
            wanted = (
                "service_completed_successfully" if dependency in completed else "service_healthy"
            )
            assert rule["condition"] == wanted, f"{name} -> {dependency}"
            if wanted == "service_healthy":
                assert services[dependency].get("healthcheck", {}).get("test"), dependency
    for name in ("pier-web", "pier-worker"):
        assert set(services[name]["depends_on"]) == {"pier-migrate", "pier-db", "pier-redis"}


def test_pier_web_binds_every_interface_in_its_container(services):
    environment = services["pier-web"]["environment"]
    assert environment["PIER_BIND"] == "0.0.0.0:8000"
    assert any(str(port).endswith(":8000") for port in services["pier-web"]["ports"])
    runtime = dockerfile_stages()[-1]
    assert "ENV" in " ".join(runtime) and "PIER_BIND=0.0.0.0:8000" in " ".join(runtime)


def test_secrets_come_from_the_env_file_with_no_default(services):
    environment = services["pier-web"]["environment"]
    for key in ("SECRET_KEY", "PIER_ENCRYPTION_KEYS"):
        assert re.fullmatch(r"\$\{" + key + r":\?[^}]+\}", environment[key]), key
    assert ":?" in environment["DATABASE_URL"]
    lago = services["lago-api"]["environment"]
    for key in ("SECRET_KEY_BASE", "LAGO_ENCRYPTION_PRIMARY_KEY"):
        assert ":?" in lago[key], key
    example = env_example()
    for key in (
        "SECRET_KEY", "PIER_ENCRYPTION_KEYS", "PIER_POSTGRES_PASSWORD", "LAGO_POSTGRES_PASSWORD",
        "LAGO_SECRET_KEY_BASE", "LAGO_ENCRYPTION_PRIMARY_KEY",
    ):  # fmt: skip
        assert example[key] == "", f".env.example must not hold a value for {key}"
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in ignored and "secrets/" in ignored


def test_the_image_runs_gunicorn_as_a_user_who_is_not_root_with_a_health_check():
    runtime = dockerfile_stages()[-1]
    users = [line.split(None, 1)[1] for line in runtime if line.upper().startswith("USER ")]
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert runtime[0].startswith("FROM python:") and "-slim" in runtime[0]
    assert any(
        line.startswith("HEALTHCHECK ") and "portal.health.probe" in line for line in runtime
    )
    command = runtime[-1]
    assert command.startswith('CMD ["gunicorn", ') and command.endswith('"app:app"]')
    copied = " ".join(line for line in runtime if line.startswith("COPY "))
    assert "gunicorn.conf.py" in copied
    assert "static/vendor" in copied  # the front-end libraries, from the node stage


def test_env_example_names_every_setting_the_compose_file_reads():
    read = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert read == set(env_example())


def test_the_build_context_holds_every_file_the_dockerfile_copies():
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    for stage in dockerfile_stages():
        for line in stage:
            if line.startswith("COPY ") and "--from=" not in line:
                *sources, _target = line.split()[1:]
                for source in sources:
                    assert source in allowed, f"{source} is left out of the build context"
                    assert (ROOT / source).exists(), source
