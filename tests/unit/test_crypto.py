import pytest
from cryptography.fernet import Fernet
from flask import Flask

from portal import crypto


def _app(keys):
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", PIER_ENCRYPTION_KEYS=keys)
    return app


def test_round_trip_and_ciphertext_hides_the_secret():
    with _app([Fernet.generate_key().decode()]).app_context():
        token = crypto.encrypt("lago-api-key-123")
        assert "lago-api-key-123" not in token
        assert crypto.decrypt(token) == "lago-api-key-123"


def test_rotation_old_tokens_still_read_and_rotate_to_the_newest_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with _app([old]).app_context():
        token = crypto.encrypt("secret")
    with _app([new, old]).app_context():
        assert crypto.decrypt(token) == "secret"
        rotated = crypto.rotate(token)
    with _app([new]).app_context():
        assert crypto.decrypt(rotated) == "secret"
        with pytest.raises(crypto.SecretUnreadable):
            crypto.decrypt(token)


def test_mask_shows_only_the_tail():
    assert crypto.mask("abcdefghijklmnop") == "••••••••mnop"
    assert crypto.mask("short") == "••••••••"
    assert crypto.mask(None) == ""
