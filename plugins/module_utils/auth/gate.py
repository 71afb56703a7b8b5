"""The deploy_token operation: verify a CI OIDC token for one action, then record its jti (replay refused)."""

from __future__ import annotations

import os
import time

from ansible_collections.octo.platform.plugins.module_utils.auth import jwks, replay, token
from ansible_collections.octo.platform.plugins.module_utils.auth.claims import (
    TokenRefused,
    check_claims,
    public_claims,
)
from ansible_collections.octo.platform.plugins.module_utils.auth.pins import (
    first_mismatch,
    parse_pins,
    require_action,
)
from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError

WHAT = "the deploy token"
MAX_SKEW = 300
MAX_LIFETIME = 86400
DISCOVERY_PATH = "/.well-known/openid-configuration"


def _bounded(params: dict, option: str, low: int, high: int) -> int:
    value = params[option]
    if not low <= value <= high:
        raise ValidationError(WHAT, option, f"must be between {low} and {high}")
    return value


def _settings(params: dict):
    """Everything validated before the token is looked at: pins, bounds, key source."""
    require_action(params["action"], WHAT)
    pins = parse_pins(params["pins"])
    skew = _bounded(params, "clock_skew", 0, MAX_SKEW)
    lifetime = _bounded(params, "max_token_lifetime", 60, MAX_LIFETIME)
    issuer = params["issuer"].rstrip("/")
    source = jwks.KeySource(
        discovery_url=None if params["jwks_file"] else (params["discovery_url"] or issuer + DISCOVERY_PATH),
        jwks_file=params["jwks_file"],
        cache_dir=os.path.expanduser(params["jwks_cache_dir"]),
        cache_ttl=_bounded(params, "jwks_cache_ttl", 0, jwks.MAX_CACHE_TTL),
        timeout=params["jwks_timeout"],
        validate_certs=params["jwks_validate_certs"],
    )
    return pins, skew, lifetime, params["issuer"], source


def _store(params: dict):
    if params["replay_backend"] == "local":
        return replay.LocalReplay(os.path.expanduser(params["replay_path"] or ""))
    # The other backends are imported only when chosen: the local default needs no cloud or kubernetes library.
    if params["replay_backend"] == "gcs":
        from ansible_collections.octo.platform.plugins.module_utils.gcp.jti_store import GcsReplay

        return GcsReplay(params["replay_gcs"] or {})
    from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
    from ansible_collections.octo.platform.plugins.module_utils.kube.deploy_records import ClusterReplay

    return ClusterReplay(Kube(auth_params(params)), params["namespace"])


def verified_claims(params: dict, pins, skew: int, lifetime: int, issuer: str, source) -> dict:
    """Header -> key -> signature and times -> pins -> claim checks; the first failure refuses the token."""
    alg, kid = token.read_header(params["token"])
    key = token.public_key(jwks.signing_key(source, kid), alg, kid)
    claims = token.decode(params["token"], key, alg, issuer, skew)
    mismatch = first_mismatch(pins, claims)
    if mismatch:
        claim, reason = mismatch
        raise TokenRefused("audience" if claim == "aud" else "pin", reason)
    check_claims(claims, time.time(), skew, lifetime)
    return claims


def verify(params: dict, check_mode: bool, diff: bool) -> dict:
    token.require_jwt()
    settings = _settings(params)
    store = _store(params)
    claims = verified_claims(params, *settings)
    now = time.time()
    entry = replay.new_entry(params["action"], claims["exp"] + settings[1], now)
    pruned = replay.remember(store, claims["jti"], entry, now, check_mode)
    return {
        "changed": True,
        "action": params["action"],
        "claims": public_claims(claims),
        "replay_pruned": pruned,
    }
