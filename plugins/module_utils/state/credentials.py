"""Pure planning of the platform credentials state object: generate once, never regenerate."""

from __future__ import annotations

import secrets

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError

WHAT = "platform credentials"
SCHEMA_VERSION = 1
# One registry of the generated values: the platform (Postgres, Auth.js, the orchestrator's encryption key),
# the k3s join token and the backup encryption key.
GENERATED = ("postgres_password", "session_secret", "encryption_key", "k3s_token", "backup_key")
INPUT = ("oidc_client_secret",)
MIN_SECRET_BYTES = 32


def validate(params: dict) -> None:
    if (params.get("secret_bytes") or 0) < MIN_SECRET_BYTES:
        raise ValidationError(WHAT, "secret_bytes", f"must be at least {MIN_SECRET_BYTES}")
    if (params.get("conflict_retries") or 0) < 0:
        raise ValidationError(WHAT, "conflict_retries", "must be 0 or more")
    secret = params.get("oidc_client_secret")
    if secret is not None and not secret.strip():
        raise ValidationError(WHAT, "oidc_client_secret", "must not be empty when given")


def empty_state() -> dict:
    return {"version": SCHEMA_VERSION, "credentials": {}}


def check_state(state: dict, what: str) -> dict:
    if not isinstance(state, dict) or state.get("version") != SCHEMA_VERSION:
        raise ValidationError(what, "version", f"unsupported state schema (want version {SCHEMA_VERSION})")
    if not isinstance(state.get("credentials"), dict):
        raise ValidationError(what, "credentials", "missing in the state object")
    return state


def plan(current: dict, oidc_client_secret: str | None, secret_bytes: int) -> tuple[dict, dict]:
    """(new state, {name: "generated" | "updated" | "set"}); existing generated values are kept as they are."""
    values = dict(current["credentials"])
    actions = {}
    for name in GENERATED:
        if values.get(name):
            continue
        values[name] = secrets.token_urlsafe(secret_bytes)
        actions[name] = "generated"
    if oidc_client_secret is not None and values.get("oidc_client_secret") != oidc_client_secret:
        actions["oidc_client_secret"] = "updated" if values.get("oidc_client_secret") else "set"
        values["oidc_client_secret"] = oidc_client_secret
    return {**current, "credentials": values}, actions


def diff(before: dict, actions: dict) -> dict:
    """Names only: values never appear in a diff."""
    names = sorted(set(before["credentials"]) | set(actions))
    return {
        "before": {n: "(set)" for n in names if before["credentials"].get(n)},
        "after": {n: f"({actions[n]})" if n in actions else "(set)" for n in names},
    }
