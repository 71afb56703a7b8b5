"""Checks on verified claims that the JWT library leaves to the caller (pure): iat, lifetime, jti."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError

WHAT = "the deploy token"
# The claims a play may use; the token itself is never returned.
RETURNED_CLAIMS = (
    "iss",
    "aud",
    "sub",
    "jti",
    "iat",
    "exp",
    "repository",
    "repository_owner",
    "ref",
    "sha",
    "actor",
    "run_id",
    "run_attempt",
    "workflow_ref",
    "job_workflow_ref",
    "event_name",
    "environment",
)


class TokenRefused(OctoError):
    """A token the gate does not accept; ``refusal`` names the reason for callers and tests."""

    def __init__(self, refusal: str, reason: str):
        super().__init__("verify", WHAT, reason, refusal=refusal)
        self.refusal = refusal


def check_claims(claims: dict, now: float, skew: int, max_lifetime: int) -> None:
    """iat not in the future beyond skew, a bounded lifetime (replay records expire with it), a jti."""
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)):
        raise TokenRefused("missing-claim", "exp and iat must be numbers")
    if iat > now + skew:
        raise TokenRefused("iat", f"issued {int(iat - now)}s in the future (allowed clock skew {skew}s)")
    if exp - iat > max_lifetime:
        raise TokenRefused(
            "lifetime", f"lifetime {int(exp - iat)}s exceeds the allowed {max_lifetime}s (max_token_lifetime)"
        )
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise TokenRefused("missing-jti", "no jti claim: without one, replays cannot be refused")


def public_claims(claims: dict) -> dict:
    return {key: claims[key] for key in RETURNED_CLAIMS if key in claims}
