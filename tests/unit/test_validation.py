import pytest

from portal.validation import normalise_email, password_problem, timezone_names


def test_email_is_normalised():
    assert normalise_email("  Alice@Example.COM ") == "Alice@example.com"


@pytest.mark.parametrize("bad", ["", "alice", "alice@", "@example.com", "a b@example.com"])
def test_bad_emails_are_refused(bad):
    with pytest.raises(ValueError):  # noqa: PT011
        normalise_email(bad)


def test_time_zones_are_the_iana_list():
    names = timezone_names()
    assert "Europe/Paris" in names
    assert "UTC" in names
    assert "Mars/Olympus" not in names


@pytest.mark.parametrize(
    ("password", "email", "problem"),
    [
        ("short", None, "at least 10"),
        ("x" * 200, None, "at most 128"),
        ("aaaaaaaaaaaa", None, "less repetitive"),
        ("alice@example.com", "alice@example.com", "not be your email"),
        ("a decent passphrase", None, None),
    ],
)
def test_password_rules(password, email, problem):
    found = password_problem(password, email)
    assert (found is None) if problem is None else (problem in found)
