"""Pure rules of the integration secrets: key names, the name-and-timestamp catalog, what a write changes.

Values are compared in memory and never leave this layer: results and diffs carry key names only.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import names

CATALOG_PREFIX = "catalog.octo.dev/"
ROTATED_AT = "octo.dev/secrets-rotated-at"


def encode(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def validate_keys(keys: Iterable[str], field: str) -> None:
    bad = [key for key in keys if not names.is_env_name(key) or len(key) > names.MAX_LABEL]
    if bad:
        raise ValidationError(
            "integration secret",
            field,
            f"key(s) {', '.join(sorted(bad))} must be UPPER_SNAKE_CASE (A-Z, 0-9, _; at most 63 characters)",
        )


def catalog_annotation(key: str) -> str:
    return CATALOG_PREFIX + key


def read_catalog(secret: dict | None) -> dict[str, dict]:
    """{KEY: {created, updated, by}} from a Secret's annotations; keys without an entry get empty metadata."""
    if not secret:
        return {}
    annotations = secret["metadata"].get("annotations") or {}
    catalog = {}
    for key in sorted((secret.get("data") or {}).keys()):
        try:
            catalog[key] = json.loads(annotations.get(catalog_annotation(key), "{}"))
        except ValueError:
            catalog[key] = {}
    return catalog


@dataclass(frozen=True)
class KeyChange:
    key: str
    op: str  # create | update | delete | none


def plan_keys(
    existing_data: Mapping[str, str], values: Mapping[str, str], remove: Iterable[str]
) -> list[KeyChange]:
    """What a write of ``values`` (plain text) and removal of ``remove`` does to ``existing_data`` (base64)."""
    changes = []
    for key in sorted(values):
        if key not in existing_data:
            changes.append(KeyChange(key, "create"))
        elif existing_data[key] != encode(values[key]):
            changes.append(KeyChange(key, "update"))
        else:
            changes.append(KeyChange(key, "none"))
    for key in sorted(set(remove)):
        changes.append(KeyChange(key, "delete" if key in existing_data else "none"))
    return changes


def key_patch(change: KeyChange, value: str | None, entry: dict | None) -> dict:
    """A JSON merge patch touching only one key and its catalog entry, so writers of other keys never collide."""
    annotation = catalog_annotation(change.key)
    if change.op == "delete":
        return {"data": {change.key: None}, "metadata": {"annotations": {annotation: None}}}
    return {"data": {change.key: encode(value)}, "metadata": {"annotations": {annotation: json.dumps(entry)}}}


def catalog_entry(previous: dict | None, now: str, actor: str) -> dict:
    created = (previous or {}).get("created", now)
    return {"created": created, "updated": now, "by": actor}


def deployments_using(deployments: Iterable[dict], keys: Iterable[str]) -> list[str]:
    """Names of the Deployments whose containers read any of ``keys`` from octo-secrets."""
    wanted = set(keys)
    users = []
    for dep in deployments:
        spec = dep["spec"]["template"]["spec"]
        refs = {
            env["valueFrom"]["secretKeyRef"].get("key")
            for container in spec.get("containers", []) + spec.get("initContainers", [])
            for env in container.get("env", [])
            if (env.get("valueFrom") or {}).get("secretKeyRef", {}).get("name") == names.SECRETS_NAME
        }
        if refs & wanted:
            users.append(dep["metadata"]["name"])
    return sorted(users)


def diff_text(changes: list[KeyChange]) -> dict:
    """Before/after naming the keys that change, with no value and no hash of one."""
    before = {"create": "(absent)", "update": "(a value)", "delete": "(a value)"}
    after = {"create": "(new value)", "update": "(changed value)", "delete": "(absent)"}
    moved = [c for c in changes if c.op != "none"]
    return {
        "before_header": names.SECRETS_NAME,
        "after_header": names.SECRETS_NAME,
        "before": "".join(f"{c.key}: {before[c.op]}\n" for c in moved),
        "after": "".join(f"{c.key}: {after[c.op]}\n" for c in moved),
    }
