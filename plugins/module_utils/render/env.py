"""Resolve env bindings against a definition's declarations into container env entries.

A binding is a literal (a string, number or boolean, rendered as Kubernetes text: ``5``, ``1.5``, ``true``)
or a mapping with ``value`` (such a literal) and/or ``secret`` (a key of octo-secrets). Error messages name the
binding but never repeat a bound value or secret key: a secret value pasted into the wrong field must not end
up in a log.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.render.definition import (
    HTTP_HOST,
    HTTP_PORT,
    Definition,
    Fail,
)
from ansible_collections.octo.platform.plugins.module_utils.render.names import SECRETS_NAME, is_env_name

MANAGED_ENV = (HTTP_PORT, HTTP_HOST)
HTTP_HOST_VALUE = "0.0.0.0"
BINDING_KEYS = ("value", "secret")
SCALAR_HINT = "must be a string, a finite number or a boolean"
BINDING_HINT = f"{SCALAR_HINT}, or a mapping with 'value' and/or 'secret'"


@dataclass(frozen=True)
class ResolvedEnv:
    entries: list[dict]  # container env, declaration order, managed vars last
    secret_keys: list[str]  # octo-secrets keys referenced, sorted


def resolve_env(definition: Definition, bindings: object, fail: Fail) -> ResolvedEnv:
    bound = _check_bindings(definition, bindings, fail)
    missing = [
        decl.name
        for decl in definition.env
        if decl.required and decl.default is None and decl.name not in bound and decl.name not in MANAGED_ENV
    ]
    if missing:
        raise fail("env", f"required env var(s) without a binding or a default: {', '.join(missing)}")
    entries: list[dict] = []
    secret_keys: set[str] = set()
    for decl in definition.env:
        if decl.name in MANAGED_ENV:
            continue
        binding = bound.get(decl.name, {})
        if binding.get("secret") is not None:
            secret_keys.add(binding["secret"])
            entries.append(_secret_entry(decl.name, binding["secret"]))
        elif binding.get("value") is not None:
            entries.append(_literal_entry(decl.name, binding["value"]))
        elif decl.default is not None:
            entries.append(_literal_entry(decl.name, decl.default))
    if definition.http_port is not None:
        entries.append(_literal_entry(HTTP_PORT, str(definition.http_port)))
        entries.append(_literal_entry(HTTP_HOST, HTTP_HOST_VALUE))
    return ResolvedEnv(entries, sorted(secret_keys))


def _check_bindings(definition: Definition, bindings: object, fail: Fail) -> dict[str, dict]:
    if bindings is None:
        return {}
    if not isinstance(bindings, Mapping):
        raise fail("env", "must be a mapping of env var name to {value: ...} or {secret: ...}")
    declared = [decl.name for decl in definition.env]
    checked: dict[str, dict] = {}
    for name, binding in bindings.items():
        if not isinstance(name, str) or not is_env_name(name):
            raise fail("env", "every key must be an UPPER_SNAKE_CASE env var name")
        field = f"env.{name}"
        if name in MANAGED_ENV:
            raise fail(field, f"{name} is managed by the module and cannot be bound")
        if name not in declared:
            raise fail(field, f"{name} is not declared in the definition's env{_suggestion(name, declared)}")
        checked[name] = _check_binding(binding, field, fail)
    return checked


def _check_binding(binding: object, field: str, fail: Fail) -> dict:
    if binding is None:
        raise fail(field, "needs 'value' or 'secret'")
    if not isinstance(binding, Mapping):
        return {"value": scalar_text(binding, field, fail, BINDING_HINT), "secret": None}
    unknown = sorted(str(key) for key in binding if key not in BINDING_KEYS)
    if unknown:
        raise fail(field, f"unknown key(s) {', '.join(unknown)}; use 'value' and/or 'secret'")
    value, secret = binding.get("value"), binding.get("secret")
    if value is None and secret is None:
        raise fail(field, "needs 'value' or 'secret'")
    if value is not None:
        value = scalar_text(value, f"{field}.value", fail, SCALAR_HINT)
    if secret is not None and not is_env_name(secret):
        raise fail(f"{field}.secret", f"must be an UPPER_SNAKE_CASE key of the {SECRETS_NAME} Secret")
    return {"value": value, "secret": secret}


def scalar_text(value: object, field: str, fail: Fail, hint: str) -> str:
    """A string, number or boolean as Kubernetes text: booleans ``true``/``false``, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise fail(field, hint)


def _suggestion(name: str, declared: list[str]) -> str:
    close = difflib.get_close_matches(name, declared, n=3)
    if close:
        return f"; did you mean {' or '.join(close)}?"
    if declared:
        return f"; declared: {', '.join(declared)}"
    return "; it declares none"


def _literal_entry(name: str, value: str) -> dict:
    # The API server drops an empty value (omitempty): leave it out so the plan sees no drift.
    return {"name": name, "value": value} if value else {"name": name}


def _secret_entry(name: str, key: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": SECRETS_NAME, "key": key}}}
