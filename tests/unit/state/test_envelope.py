from __future__ import annotations

import base64
import os

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.state import envelope

KEY = os.urandom(32)


# Named ids: the key is random, and ids made from it differ between pytest-xdist workers (ansible-test units).
@pytest.mark.parametrize(
    "text",
    [base64.b64encode(KEY).decode(), base64.urlsafe_b64encode(KEY).decode().rstrip("="), KEY.hex()],
    ids=["base64", "base64url", "hex"],
)
def test_parse_key_accepts_base64_urlsafe_and_hex(text):
    assert envelope.parse_key(text) == KEY


@pytest.mark.parametrize("text", ["", None, "c2hvcnQ=", "x" * 10])
def test_parse_key_rejects_without_echoing(text):
    with pytest.raises(ValidationError) as err:
        envelope.parse_key(text)
    assert err.value.field == "encryption_key" and (not text or text not in str(err.value))


def test_round_trip_and_fresh_nonce():
    one = envelope.encrypt(KEY, {"a": "secret-value"}, "ctx")
    assert one != envelope.encrypt(KEY, {"a": "secret-value"}, "ctx") and b"secret-value" not in one
    assert envelope.decrypt(KEY, one, "ctx", "state") == {"a": "secret-value"}


def test_wrong_key_tamper_and_context_are_errors():
    data = envelope.encrypt(KEY, {"a": 1}, "ctx")
    with pytest.raises(OctoError, match="does not match"):
        envelope.decrypt(os.urandom(32), data, "ctx", "state")
    with pytest.raises(OctoError, match="authentication failed"):
        envelope.decrypt(KEY, data, "other", "state")
    with pytest.raises(OctoError, match="not an octo-state/v1 envelope"):
        envelope.decrypt(KEY, b"garbage", "ctx", "state")
