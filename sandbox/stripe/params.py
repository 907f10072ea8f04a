"""Checked access to a request's parameters, answering Stripe's 400s for bad ones."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from . import errors

MAX_STRING = 5000
METADATA_KEYS = 50
METADATA_KEY_LENGTH = 40
METADATA_VALUE_LENGTH = 500
_MISSING = object()


class Params:
    """A request's nested parameters with typed getters; unknown names are rejected."""

    def __init__(
        self,
        data: dict[str, Any],
        allowed: Iterable[str],
        prefix: str = "",
        unsupported: Iterable[str] = (),
    ) -> None:
        self.data = data
        self.prefix = prefix
        known = set(allowed) | ({"expand"} if not prefix else set())
        skipped = set(unsupported)
        for name in data:
            if name in skipped:
                raise errors.not_in_sandbox(self.name(name))
            if name not in known:
                raise errors.unknown_param(self.name(name))

    def name(self, key: str) -> str:
        """The parameter's full name as Stripe reports it (`invoice_settings[footer]`)."""
        return f"{self.prefix}[{key}]" if self.prefix else key

    def has(self, key: str) -> bool:
        """Whether the parameter was sent (an empty string counts)."""
        return key in self.data

    def raw(self, key: str, default: Any = None) -> Any:
        """The value as parsed from the form."""
        return self.data.get(key, default)

    def string(self, key: str, *, required: bool = False, blank_is_none: bool = True) -> Any:
        """A string; an empty string means "unset" (None) unless `blank_is_none` is false."""
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if required:
                raise errors.missing_param(self.name(key))
            return None
        if not isinstance(value, str):
            raise errors.invalid(f"Invalid string: {_shown(value)}", self.name(key))
        if len(value) > MAX_STRING:
            raise errors.invalid(
                f"Invalid string: {value[:20]}...; must be at most {MAX_STRING} characters",
                self.name(key),
            )
        if value == "":
            if required:
                name = self.name(key)
                raise errors.invalid(
                    f"You passed an empty string for '{name}'. We assume empty values are an "
                    f"attempt to unset a parameter; however '{name}' cannot be unset. You should "
                    f"remove '{name}' from your request or supply a non-empty value.",
                    name,
                    "parameter_invalid_empty",
                )
            return None if blank_is_none else ""
        return value

    def boolean(self, key: str, default: bool | None = None) -> bool | None:
        """`true` / `false`."""
        value = self.data.get(key, _MISSING)
        if value is _MISSING or value == "":
            return default
        if value in ("true", "false"):
            return value == "true"
        raise errors.invalid(f"Invalid boolean: {_shown(value)}", self.name(key))

    def integer(
        self,
        key: str,
        default: int | None = None,
        *,
        low: int | None = None,
        high: int | None = None,
    ) -> int | None:
        """A whole number, optionally within bounds."""
        value = self.data.get(key, _MISSING)
        if value is _MISSING or value == "":
            return default
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
            raise errors.invalid(
                f"Invalid integer: {_shown(value)}", self.name(key), "parameter_invalid_integer"
            )
        number = int(value)
        if low is not None and number < low:
            raise errors.invalid(
                f"This value must be greater than or equal to {low}.", self.name(key)
            )
        if high is not None and number > high:
            raise errors.invalid(
                f"This value must be less than or equal to {high}.", self.name(key)
            )
        return number

    def choice(self, key: str, choices: Iterable[str], default: str | None = None) -> str | None:
        """One of a fixed set of strings."""
        value = self.string(key)
        if value is None:
            return default
        options = list(choices)
        if value not in options:
            listed = (
                ", ".join(options[:-1]) + f" or {options[-1]}" if len(options) > 1 else options[0]
            )
            raise errors.invalid(
                f"Invalid {self.name(key)}: must be one of {listed}", self.name(key)
            )
        return value

    def strings(self, key: str, *, required: bool = False) -> list[str] | None:
        """A list of strings (`key[]=a&key[]=b` or `key[0]=a`)."""
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if required:
                raise errors.missing_param(self.name(key))
            return None
        if value == "":
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise errors.invalid(f"Invalid array: {_shown(value)}", self.name(key))
        return value

    def nested(
        self, key: str, allowed: Iterable[str], unsupported: Iterable[str] = ()
    ) -> Params | None:
        """A hash parameter as Params (None when absent; an empty string gives an empty one)."""
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            return None
        if value == "":
            value = {}
        if not isinstance(value, dict):
            raise errors.invalid(f"Invalid object: {_shown(value)}", self.name(key))
        return Params(value, allowed, self.name(key), unsupported)

    def is_blank(self, key: str) -> bool:
        """Whether the parameter was sent as an empty string (Stripe's way to unset it)."""
        return self.data.get(key) == ""

    def metadata(self, current: dict[str, str] | None = None) -> dict[str, str]:
        """`metadata[k]=v` merged into `current`; `metadata[k]=` drops k, `metadata=` clears."""
        result = dict(current or {})
        value = self.data.get("metadata", _MISSING)
        if value is _MISSING:
            return result
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise errors.invalid(f"Invalid object: {_shown(value)}", self.name("metadata"))
        for key, item in value.items():
            name = f"{self.name('metadata')}[{key}]"
            if not isinstance(item, str):
                raise errors.invalid(f"Invalid string: {_shown(item)}", name)
            if len(key) > METADATA_KEY_LENGTH:
                raise errors.invalid(
                    f"Metadata keys can have up to {METADATA_KEY_LENGTH} characters.", name
                )
            if len(item) > METADATA_VALUE_LENGTH:
                raise errors.invalid(
                    f"Metadata values can have up to {METADATA_VALUE_LENGTH} characters.", name
                )
            if item == "":
                result.pop(key, None)
            else:
                result[key] = item
        if len(result) > METADATA_KEYS:
            raise errors.invalid(
                f"Metadata can have up to {METADATA_KEYS} keys.", self.name("metadata")
            )
        return result


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(value) + "}"
    if isinstance(value, list):
        return "[...]"
    return str(value)
