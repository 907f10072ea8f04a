"""The stand-in's settings; most can be changed at runtime through the control API."""

from __future__ import annotations

from dataclasses import asdict, dataclass

API_VERSION = "2026-10-28.endive"
DEFAULT_API_KEY = "sk_test_sandbox_51StandinSecretKey"
DEFAULT_PUBLISHABLE_KEY = "pk_test_sandbox_51StandinPublishableKey"


@dataclass
class StandinConfig:
    """Settings of one stand-in."""

    db_path: str = ":memory:"
    api_key: str = DEFAULT_API_KEY
    publishable_key: str = DEFAULT_PUBLISHABLE_KEY
    api_version: str = API_VERSION
    webhook_secret: str | None = None
    webhook_url: str | None = None
    public_url: str | None = None
    webhook_timeout: float = 10.0
    webhook_attempts: int = 4
    webhook_retry_scale: float = 1.0

    RUNTIME = (
        "api_version",
        "webhook_secret",
        "webhook_url",
        "public_url",
        "webhook_timeout",
        "webhook_attempts",
        "webhook_retry_scale",
    )

    def public(self) -> dict:
        """The settings as JSON (the keys are test-mode keys, so they are shown)."""
        return asdict(self)
