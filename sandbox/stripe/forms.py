"""Stripe's form encoding: `a[b][0]=x` and `a[]=x` keys become nested dicts and lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
# Values under these keys are maps with free-form keys, never lists.
FREE_FORM = frozenset({"metadata"})


class FormError(ValueError):
    """A key that cannot be parsed."""


def split_key(key: str) -> list[str]:
    """`a[b][]` -> ["a", "b", ""]."""
    head, bracket, _ = key.partition("[")
    if not bracket:
        return [key]
    tail = key[len(head) :]
    parts = _SEGMENT.findall(tail)
    if "".join(f"[{p}]" for p in parts) != tail or not head:
        raise FormError(f"Invalid parameter name: {key}")
    return [head, *parts]


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest form pairs into dicts and lists (strings stay strings)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = split_key(key)
        node = root
        for index, part in enumerate(parts):
            name = str(len(node)) if part == "" else part
            if index == len(parts) - 1:
                node[name] = value
                break
            child = node.get(name)
            if not isinstance(child, dict):
                child = {}
                node[name] = child
            node = child
    return _listify(root)


def _listify(node: Any, free_form: bool = False) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value, key in FREE_FORM) for key, value in node.items()}
    if not free_form and converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted
