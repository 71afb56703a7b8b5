"""The JWKS source without a network: a file read every time, a fresh cache used, an unknown kid refused."""

from __future__ import annotations

import hashlib
import json
import os
import time

import pytest

from ansible_collections.octo.platform.plugins.module_utils.auth import jwks
from ansible_collections.octo.platform.plugins.module_utils.auth.claims import TokenRefused

KEY = {"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}


def source(tmp_path, **overrides) -> jwks.KeySource:
    fields = {
        "discovery_url": None,
        "jwks_file": None,
        "cache_dir": str(tmp_path / "cache"),
        "cache_ttl": 300,
        "timeout": 0.5,
    }
    fields.update(overrides)
    return jwks.KeySource(**fields)


def test_file_source(tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [KEY]}))
    assert jwks.signing_key(source(tmp_path, jwks_file=str(path)), "k1") == KEY
    with pytest.raises(TokenRefused) as err:
        jwks.signing_key(source(tmp_path, jwks_file=str(path)), "k2")
    assert err.value.refusal == "unknown-kid"


@pytest.mark.parametrize("content", ["{", '{"keys": {}}', "[]"])
def test_bad_file_fails_closed(tmp_path, content):
    path = tmp_path / "jwks.json"
    path.write_text(content)
    with pytest.raises(TokenRefused) as err:
        jwks.signing_key(source(tmp_path, jwks_file=str(path)), "k1")
    assert err.value.refusal == "jwks-unavailable" and "failing closed" in str(err.value)


def _cache(tmp_path, url: str, age: float) -> None:
    path = tmp_path / "cache" / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".json")
    path.parent.mkdir()
    path.write_text(json.dumps([KEY]))
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))


def test_fresh_cache_answers_without_network(tmp_path):
    url = "http://127.0.0.1:9/.well-known/openid-configuration"  # nothing listens there
    _cache(tmp_path, url, age=10)
    assert jwks.signing_key(source(tmp_path, discovery_url=url), "k1") == KEY


def test_unknown_kid_refreshes_and_a_dead_endpoint_fails_closed(tmp_path):
    url = "http://127.0.0.1:9/.well-known/openid-configuration"
    _cache(tmp_path, url, age=10)
    with pytest.raises(TokenRefused) as err:
        jwks.signing_key(source(tmp_path, discovery_url=url), "k2")
    assert err.value.refusal == "jwks-unavailable" and "cannot fetch" in str(err.value)


def test_stale_cache_is_not_used(tmp_path):
    url = "http://127.0.0.1:9/.well-known/openid-configuration"
    _cache(tmp_path, url, age=301)
    with pytest.raises(TokenRefused) as err:
        jwks.signing_key(source(tmp_path, discovery_url=url), "k1")
    assert err.value.refusal == "jwks-unavailable"
