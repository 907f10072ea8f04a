import pytest

from portal.models import User


def test_admin_create_makes_a_platform_admin(app):
    result = app.test_cli_runner().invoke(
        args=["admin", "create", "--email", "Root@Example.com", "--password", "a decent passphrase"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = User.by_email("root@example.com")
        assert user.is_platform_admin and user.check_password("a decent passphrase")


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", "a decent passphrase", "email address is not valid"),
        ("ok@example.com", "short", "at least 10"),
    ],
)
def test_admin_create_refuses_bad_input(app, email, password, message):
    result = app.test_cli_runner().invoke(
        args=["admin", "create", "--email", email, "--password", password]
    )
    assert result.exit_code == 1
    assert message in result.output


def test_admin_create_refuses_an_existing_user(app, make_person):
    person = make_person("member")
    result = app.test_cli_runner().invoke(
        args=[
            "admin",
            "create",
            "--email",
            person.email.upper(),
            "--password",
            "a decent passphrase",
        ]
    )
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_demo_seed_is_idempotent(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with app.app_context():
        assert User.query.count() == 4
        assert User.by_email("member@acme.example").memberships[0].role.value == "member"
