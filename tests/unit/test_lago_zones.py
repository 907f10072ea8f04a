from pathlib import Path

import pytest
import yaml

from portal.lago.zones import COUNTRIES, TIMEZONES, billing_timezone
from portal.validation import timezone_names

SPEC = Path(__file__).resolve().parents[2] / "sandbox" / "lago" / "openapi.yaml"


def test_the_lists_are_lagos_own_enums():
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    schemas = yaml.load(SPEC.read_text(), Loader=loader)["components"]["schemas"]  # noqa: S506
    assert set(schemas["Timezone"]["enum"]) == TIMEZONES
    assert set(schemas["Country"]["enum"]) == COUNTRIES


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("UTC", "UTC"),
        ("Etc/UTC", "UTC"),
        ("Asia/Calcutta", "Asia/Kolkata"),  # a legacy link
        ("Europe/Kiev", "Europe/Kyiv"),
        ("America/Toronto", "America/New_York"),  # same clock all year, same region
        ("America/Edmonton", "America/Denver"),
        ("Australia/Lord_Howe", None),  # a half-hour DST shift nobody else has
        (None, None),
        ("Mars/Olympus", None),
    ],
)
def test_billing_timezone(zone, expected):
    assert billing_timezone(zone) == expected


def test_every_zone_a_person_can_pick_maps_to_one_lago_accepts_or_none():
    for zone in timezone_names():
        assert billing_timezone(zone) in TIMEZONES | {None}, zone
