"""Signature and time verification of a CI OIDC token with PyJWT: asymmetric algorithms only."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.auth.claims import TokenRefused
from ansible_collections.octo.platform.plugins.module_utils.common.errors import DependencyError

try:
    import jwt

    IMPORT_ERROR = None
except ImportError as err:  # pragma: no cover - depends on the host
    IMPORT_ERROR = err

# The accepted algorithms and the JWK key type and curve each needs: a key of another type is refused.
ALGORITHMS = {"RS256": ("RSA", None), "ES256": ("EC", "P-256")}


def require_jwt() -> None:
    if IMPORT_ERROR is not None:
        raise DependencyError("PyJWT", "PyJWT[crypto]", IMPORT_ERROR)


def read_header(token: str) -> tuple[str, str]:
    """(alg, kid) of the token's header, refusing unsigned, HMAC and other algorithms before any key lookup."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as err:
        raise TokenRefused("malformed", f"not a JWT ({err})") from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise TokenRefused("alg-none", "alg none (an unsigned token) is refused")
    if alg.upper().startswith("HS"):
        raise TokenRefused("alg-hmac", f"HMAC algorithm {alg} is refused; only {', '.join(ALGORITHMS)}")
    if alg not in ALGORITHMS:
        raise TokenRefused("alg", f"algorithm {alg} is refused; only {', '.join(ALGORITHMS)}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRefused("kid", "the header names no kid")
    return alg, kid


def public_key(jwk: dict, alg: str, kid: str):
    """The key of a JWK for ``alg``; its type (and curve) must be the algorithm's."""
    kty, crv = ALGORITHMS[alg]
    declared = jwk.get("alg")
    if jwk.get("kty") != kty or (crv and jwk.get("crv") != crv) or (declared and declared != alg):
        shown = "/".join(str(v) for v in (jwk.get("kty"), jwk.get("crv"), declared) if v)
        raise TokenRefused("alg-key-mismatch", f"algorithm {alg} does not match key {kid} ({shown})")
    try:
        return jwt.PyJWK(jwk, algorithm=alg).key
    except jwt.PyJWTError as err:
        raise TokenRefused("key", f"key {kid} of the JWKS is unusable ({err})") from None


def decode(token: str, key, alg: str, issuer: str, skew: int) -> dict:
    """The claims after the signature, iss, exp and nbf checks (skew as leeway); aud is checked by the pins."""
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[alg],
            issuer=issuer,
            leeway=skew,
            options={"require": ["exp", "iat", "iss"], "verify_aud": False},
        )
    except jwt.InvalidSignatureError:
        raise TokenRefused("signature", "the signature does not verify with the issuer's key") from None
    except jwt.ExpiredSignatureError:
        raise TokenRefused("expired", f"the token has expired (allowed clock skew {skew}s)") from None
    except jwt.ImmatureSignatureError as err:
        claim = "iat" if "iat" in str(err) else "nbf"
        raise TokenRefused(claim, f"{claim} is in the future (allowed clock skew {skew}s)") from None
    except jwt.MissingRequiredClaimError as err:
        raise TokenRefused("missing-claim", str(err)) from None
    except jwt.InvalidIssuerError:
        raise TokenRefused("issuer", f"the token's issuer is not {issuer}") from None
    except jwt.PyJWTError as err:
        raise TokenRefused("malformed", f"the token does not decode ({err})") from None
