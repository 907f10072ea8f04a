"""What a plan grants, in words: the admin's feature bullets and Lago's plan entitlements.

Lago's entitlements are mirrored on each plan (`Plan.entitlements`, see catalogue.py): a
feature with privileges, each with a typed value ("Team seats: Maximum 20, Admins 5").
`lost` compares a plan with the one a customer would fall to (None when cancelling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.models import Plan
from portal.templating import number


@dataclass(frozen=True)
class Granted:
    """One Lago feature a plan grants, with its privileges in words."""

    code: str
    name: str
    description: str | None
    terms: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.name}: {', '.join(self.terms)}" if self.terms else self.name


def value_words(privilege: dict[str, Any]) -> str:
    """A privilege's value as a customer reads it."""
    value = privilege.get("value")
    kind = privilege.get("value_type")
    if kind == "boolean":
        return "yes" if value is True else "no"
    if kind == "integer" and isinstance(value, int):
        return number(value)
    return "" if value is None else str(value)


def _label(item: dict[str, Any]) -> str:
    return item.get("name") or item["code"].replace("_", " ").capitalize()


def privilege_words(privilege: dict[str, Any]) -> str:
    """ "Maximum 20", "Export: yes", "Provider: okta"."""
    separator = " " if privilege.get("value_type") == "integer" else ": "
    return f"{_label(privilege)}{separator}{value_words(privilege)}"


def _granted(item: dict[str, Any]) -> Granted:
    return Granted(
        code=item["code"],
        name=_label(item),
        description=item.get("description"),
        terms=tuple(privilege_words(p) for p in item.get("privileges") or []),
    )


def granted(plan: Plan | None) -> list[Granted]:
    """The Lago features `plan` grants, in Lago's order."""
    return [_granted(item) for item in (plan.entitlements or [] if plan else [])]


def _less(before: dict[str, Any], after: dict[str, Any] | None) -> str | None:
    """How one privilege shrinks from `before` to `after`, in words (None: it does not)."""
    if after is None:
        return privilege_words(before)
    old, new = before.get("value"), after.get("value")
    kind = before.get("value_type")
    if kind == "integer" and isinstance(old, int) and isinstance(new, int) and new < old:
        return f"{_label(before)} from {number(old)} to {number(new)}"
    if kind == "boolean" and old is True and new is not True:
        return _label(before)
    if kind in ("select", "string") and old != new:
        return f"{_label(before)} {value_words(before)} (becomes {value_words(after)})"
    return None


def lost(current: Plan | None, target: Plan | None) -> list[str]:
    """What a customer on `current` no longer has on `target` (None: no plan at all): the
    admin's bullets missing from the target, Lago features it lacks, and privileges it cuts."""
    if current is None:
        return []
    kept = {line.casefold() for line in (target.features if target else None) or []}
    found = [line for line in current.features or [] if line.casefold() not in kept]
    theirs = {item["code"]: item for item in (target.entitlements if target else None) or []}
    for item in current.entitlements or []:
        other = theirs.get(item["code"])
        if other is None:
            found.append(str(_granted(item)))
            continue
        values = {p["code"]: p for p in other.get("privileges") or []}
        cuts = [
            cut
            for p in item.get("privileges") or []
            if (cut := _less(p, values.get(p["code"]))) is not None
        ]
        if cuts:
            found.append(f"{_label(item)}: {', '.join(cuts)}")
    return found
