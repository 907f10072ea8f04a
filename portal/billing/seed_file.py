"""Read a plans file (YAML) for `flask lago seed-plans`: every problem names its line and key.

The format (an example is examples/plans.yaml):

    billable_metrics:
      - code, name, aggregation_type        required
        field_name                          required unless aggregation_type is count_agg
        description, recurring, filters     optional (filters: [{key, values: [...]}])
    plans:
      - code, name, interval, amount_cents, amount_currency     required
        description, invoice_display_name, trial_period, pay_in_advance   optional
        charges: [{billable_metric, charge_model, properties,
                   invoice_display_name, pay_in_advance, min_amount_cents}]

Values go to Lago as written (Lago's own field names), except a charge's `billable_metric`,
which names a metric by code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

AGGREGATIONS = (
    "count_agg",
    "sum_agg",
    "max_agg",
    "unique_count_agg",
    "weighted_sum_agg",
    "latest_agg",
)
INTERVALS = ("weekly", "monthly", "quarterly", "semiannual", "yearly")
CHARGE_MODELS = (
    "standard",
    "graduated",
    "graduated_percentage",
    "package",
    "percentage",
    "volume",
    "dynamic",
)
METRIC_KEYS = {
    "code": str,
    "name": str,
    "aggregation_type": str,
    "field_name": str,
    "description": str,
    "recurring": bool,
    "filters": list,
}
PLAN_KEYS = {
    "code": str,
    "name": str,
    "interval": str,
    "amount_cents": int,
    "amount_currency": str,
    "description": str,
    "invoice_display_name": str,
    "trial_period": (int, float),
    "pay_in_advance": bool,
    "charges": list,
}
CHARGE_KEYS = {
    "billable_metric": str,
    "charge_model": str,
    "properties": dict,
    "invoice_display_name": str,
    "pay_in_advance": bool,
    "min_amount_cents": int,
}
TYPE_WORDS = {
    str: "text",
    bool: "true or false",
    int: "a whole number",
    list: "a list",
    dict: "a mapping",
}


class SeedFileError(Exception):
    """What is wrong with the file, one problem a line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Lined(dict):
    """A YAML mapping that remembers its line and each key's line."""

    line: int = 0
    lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Lined:
    loader.flatten_mapping(node)
    data = Lined()
    data.line = node.start_mark.line + 1
    data.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise yaml.MarkedYAMLError(
                problem=f"the key {key!r} is not a name", problem_mark=key_node.start_mark
            )
        if key in data:
            raise yaml.MarkedYAMLError(
                problem=f"the key {key!r} appears twice", problem_mark=key_node.start_mark
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = key_node.start_mark.line + 1
    return data


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@dataclass(frozen=True)
class SeedFile:
    """The metrics and plans a file asks for, as Lago payloads (charges name metric codes)."""

    metrics: list[dict[str, Any]]
    plans: list[dict[str, Any]]


def _is(value: Any, kind) -> bool:
    """isinstance, where YAML's true and false are not numbers."""
    if kind is bool:
        return isinstance(value, bool)
    return not isinstance(value, bool) and isinstance(value, kind)


def _type_word(kind) -> str:
    if isinstance(kind, tuple):
        return "a number"
    return TYPE_WORDS[kind]


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, line: int, where: str, message: str) -> None:
        self.problems.append(f"line {line}: {where}: {message}")

    def entry(self, item: Any, where: str, keys: dict, required: tuple[str, ...], line: int):
        if not isinstance(item, Lined):
            self.add(line, where, "must be a mapping of keys and values")
            return None
        for key in item:
            kind = keys.get(key)
            if kind is None:
                self.add(
                    item.lines[key], f"{where}.{key}", f"unknown key (allowed: {', '.join(keys)})"
                )
            elif not _is(item[key], kind):
                self.add(item.lines[key], f"{where}.{key}", f"must be {_type_word(kind)}")
        for key in required:
            if item.get(key) in (None, ""):
                self.add(item.line, where, f"{key} is required")
        return item

    def choice(self, item: Lined, key: str, where: str, allowed: tuple[str, ...]) -> None:
        if key in item and item[key] not in allowed:
            self.add(item.lines[key], f"{where}.{key}", f"must be one of {', '.join(allowed)}")


def _section(data: Lined, name: str, checker: _Checker) -> list:
    value = data.get(name) or []
    if not isinstance(value, list):
        checker.add(data.lines[name], name, "must be a list")
        return []
    return value


def _listed(item: Lined, key: str) -> list:
    """The list under `key` (anything else is reported as a wrong type already)."""
    value = item.get(key)
    return value if isinstance(value, list) else []


def _check_metric(item: Lined, where: str, checker: _Checker) -> None:
    checker.choice(item, "aggregation_type", where, AGGREGATIONS)
    aggregation = item.get("aggregation_type")
    if aggregation in AGGREGATIONS and aggregation != "count_agg" and not item.get("field_name"):
        checker.add(item.line, where, f"field_name is required for {item['aggregation_type']}")
    for n, rule in enumerate(_listed(item, "filters")):
        if not isinstance(rule, Lined) or not isinstance(rule.get("key"), str):
            checker.add(item.lines["filters"], f"{where}.filters[{n}]", "needs a key and values")
        elif not isinstance(rule.get("values"), list) or not rule["values"]:
            checker.add(rule.line, f"{where}.filters[{n}].values", "must be a non-empty list")


def _check_plan(item: Lined, where: str, checker: _Checker) -> None:
    checker.choice(item, "interval", where, INTERVALS)
    if isinstance(item.get("amount_cents"), int) and item["amount_cents"] < 0:
        checker.add(item.lines["amount_cents"], f"{where}.amount_cents", "must not be negative")
    if isinstance(item.get("amount_currency"), str) and (
        len(item["amount_currency"]) != 3 or not item["amount_currency"].isupper()
    ):
        checker.add(
            item.lines["amount_currency"],
            f"{where}.amount_currency",
            "must be an ISO code like USD",
        )
    seen: set[str] = set()
    for n, charge in enumerate(_listed(item, "charges")):
        at = f"{where}.charges[{n}]"
        charge = checker.entry(
            charge, at, CHARGE_KEYS, ("billable_metric", "charge_model"), item.lines["charges"]
        )
        if charge is None:
            continue
        checker.choice(charge, "charge_model", at, CHARGE_MODELS)
        code = charge.get("billable_metric")
        if code in seen:
            checker.add(charge.line, at, f"the metric {code} is charged twice in this plan")
        seen.add(code)


def read_seed_file(path: str | Path) -> SeedFile:
    """Parse and check the file; raises SeedFileError listing every problem found."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedFileError([f"{path}: cannot be read ({exc})"]) from exc
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise SeedFileError([f"line {line}: not valid YAML: {exc.problem}"]) from exc
    except yaml.YAMLError as exc:
        raise SeedFileError([f"not valid YAML: {exc}"]) from exc
    if not isinstance(data, Lined):
        raise SeedFileError(["the file must be a mapping with billable_metrics and/or plans"])
    checker = _Checker()
    for key in data:
        if key not in ("billable_metrics", "plans"):
            checker.add(data.lines[key], key, "unknown key (allowed: billable_metrics, plans)")
    metrics, plans = [], []
    sections = {"billable_metrics": metrics, "plans": plans}
    labels: dict[int, str] = {}
    for name, (keys, required) in {
        "billable_metrics": (METRIC_KEYS, ("code", "name", "aggregation_type")),
        "plans": (PLAN_KEYS, ("code", "name", "interval", "amount_currency")),
    }.items():
        codes: dict[str, int] = {}
        for n, item in enumerate(_section(data, name, checker)):
            where = f"{name}[{n}]"
            item = checker.entry(item, where, keys, required, data.lines[name])
            if item is None:
                continue
            if item.get("code") in codes:
                checker.add(item.line, where, f"the code {item['code']} is used twice")
            codes[item.get("code")] = item.line
            if name == "plans" and "amount_cents" not in item:
                checker.add(item.line, where, "amount_cents is required")
            sections[name].append(item)
            labels[id(item)] = f"{where} ({item.get('code')})"
    for item in metrics:
        _check_metric(item, labels[id(item)], checker)
    for item in plans:
        _check_plan(item, labels[id(item)], checker)
    if checker.problems:
        raise SeedFileError(sorted(checker.problems, key=_line_of))
    return SeedFile(metrics=[_plain(m) for m in metrics], plans=[_plain(p) for p in plans])


def _line_of(problem: str) -> int:
    return int(problem.split(":", 1)[0].removeprefix("line "))


def _plain(value: Any) -> Any:
    """Plain dicts and lists (without line numbers), for payloads and comparing."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
