"""Runtime changes to a stand-in's settings dataclass."""

from __future__ import annotations

from dataclasses import fields
from typing import Any


def apply_runtime(config: Any, changes: dict[str, Any]) -> Any:
    """Set settings named in the config's RUNTIME (any other name raises ValueError)."""
    unknown = set(changes) - set(config.RUNTIME)
    if unknown:
        raise ValueError(f"not a runtime setting: {', '.join(sorted(unknown))}")
    known = {f.name for f in fields(config)}
    for name, value in changes.items():
        if name in known:
            setattr(config, name, value)
    return config
