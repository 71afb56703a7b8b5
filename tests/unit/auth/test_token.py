"""Token verification with generated keys (no network): header rules, key matching, times, claims."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.octo.platform.plugins.module_utils.auth import token
from ansible_collections.octo.platform.plugins.module_utils.auth.claims import (
    TokenRefused,
    check_claims,
    public_claims,
)

ISSUER = "https://token.actions.example"
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC = ec.generate_private_key(ec.SECP256R1())
EC384 = ec.generate_private_key(ec.SECP384R1())


def jwk_of(key, alg: str, kid: str) -> dict:
    return {**json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key())), "kid": kid}


def claims(**overrides) -> dict:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": "octo", "iat": now, "nbf": now, "exp": now + 300, "jti": "j1", "sha": "abc"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def verify(encoded: str, jwk: dict, skew: int = 30) -> dict:
    alg, kid = token.read_header(encoded)
    return token.decode(encoded, token.public_key(jwk, alg, kid), alg, ISSUER, skew)


def refusal(call) -> TokenRefused:
    with pytest.raises(TokenRefused) as err:
        call()
    assert str(err.value).startswith("Failed to verify the deploy token: ")
    return err.value


@pytest.mark.parametrize(("key", "alg"), [(RSA, "RS256"), (EC, "ES256")])
def test_asymmetric_tokens_verify(key, alg):
    encoded = jwt.encode(claims(), key, algorithm=alg, headers={"kid": "k"})
    assert verify(encoded, jwk_of(key, alg, "k"))["sha"] == "abc"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ({"alg": "none", "kid": "k"}, "alg-none"),
        ({"alg": "HS256", "kid": "k"}, "alg-hmac"),
        ({"alg": "HS512", "kid": "k"}, "alg-hmac"),
        ({"alg": "PS256", "kid": "k"}, "alg"),
        ({"alg": "RS256"}, "kid"),
    ],
)
def test_headers_refused_before_any_key(header, code):
    encoded = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in (header, claims())
    )
    assert refusal(lambda: token.read_header(encoded + ".c2ln")).refusal == code


def test_not_a_jwt():
    assert refusal(lambda: token.read_header("not-a-token")).refusal == "malformed"


@pytest.mark.parametrize(
    ("jwk", "alg"),
    [
        (jwk_of(EC, "ES256", "k"), "RS256"),  # an EC key for RS256
        (jwk_of(RSA, "RS256", "k"), "ES256"),  # an RSA key for ES256
        (jwk_of(EC384, "ES384", "k"), "ES256"),  # the wrong curve
        ({**jwk_of(RSA, "RS256", "k"), "alg": "RS512"}, "RS256"),  # the key declares another algorithm
    ],
)
def test_key_type_must_match_algorithm(jwk, alg):
    assert refusal(lambda: token.public_key(jwk, alg, "k")).refusal == "alg-key-mismatch"


def test_signature_of_another_key():
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encoded = jwt.encode(claims(), other, algorithm="RS256", headers={"kid": "k"})
    assert refusal(lambda: verify(encoded, jwk_of(RSA, "RS256", "k"))).refusal == "signature"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"exp": -31}, "expired"),
        ({"nbf": 60}, "nbf"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"exp": None}, "missing-claim"),
        ({"iat": None}, "missing-claim"),
    ],
)
def test_times_and_issuer(overrides, code):
    now = int(time.time())  # times given as offsets: parameters are made when the tests are collected
    overrides = {k: now + v if k in ("exp", "nbf") and v is not None else v for k, v in overrides.items()}
    encoded = jwt.encode(claims(**overrides), RSA, algorithm="RS256", headers={"kid": "k"})
    assert refusal(lambda: verify(encoded, jwk_of(RSA, "RS256", "k"))).refusal == code


def test_skew_is_allowed():
    encoded = jwt.encode(claims(exp=int(time.time()) - 10), RSA, algorithm="RS256", headers={"kid": "k"})
    assert verify(encoded, jwk_of(RSA, "RS256", "k"), skew=30)["jti"] == "j1"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"iat": 1100}, "iat"),
        ({"exp": 1000 + 7200}, "lifetime"),
        ({"jti": None}, "missing-jti"),
        ({"jti": ""}, "missing-jti"),
        ({"exp": "soon"}, "missing-claim"),
    ],
)
def test_claim_checks(overrides, code):
    given = {"iat": 1000, "exp": 1300, "jti": "j", **overrides}
    given = {k: v for k, v in given.items() if v is not None}
    assert refusal(lambda: check_claims(given, now=1000, skew=60, max_lifetime=3600)).refusal == code


def test_public_claims_drop_unknown():
    assert public_claims({"sha": "a", "actor": "x", "secret_thing": 1}) == {"sha": "a", "actor": "x"}
