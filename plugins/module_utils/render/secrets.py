"""Pure rules of the integration secrets: key names, the catalog, what a write changes, which deployments roll.

Values are compared in memory and never leave this layer: results and diffs carry key names only. A write is
identified by a random write id in the key's catalog entry (never derived from the value), which also lists the
Deployments reading the key at that write; a rolled pod template records, per key it binds, the write id it was
rolled for. So whether a Deployment must roll is derived from state, not from what one run changed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import names

CATALOG_PREFIX = "catalog.octo.dev/"
ROLLED_FOR = "octo.dev/secrets-rolled-for"
ROTATED_AT = "octo.dev/secrets-rotated-at"  # the roll annotation of 0.1, dropped by the next roll


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


def catalog_entry(previous: dict | None, now: str, actor: str, write_id: str, readers: Iterable[str]) -> dict:
    """A key's catalog entry for one write: ``readers`` are the uids of the Deployments reading it at that write."""
    created = (previous or {}).get("created", now)
    return {"created": created, "updated": now, "by": actor, "write": write_id, "readers": sorted(readers)}


def write_identity(entry: dict) -> str | None:
    """What identifies a key's last write: its write id; for entries written before write ids, its time."""
    return entry.get("write") or entry.get("updated") or None


def bound_keys(deployment: dict) -> set[str]:
    """The octo-secrets keys that a Deployment's containers read."""
    spec = deployment["spec"]["template"]["spec"]
    return {
        env["valueFrom"]["secretKeyRef"].get("key")
        for container in spec.get("containers", []) + spec.get("initContainers", [])
        for env in container.get("env", [])
        if (env.get("valueFrom") or {}).get("secretKeyRef", {}).get("name") == names.SECRETS_NAME
    }


def deployments_using(deployments: Iterable[dict], keys: Iterable[str]) -> list[str]:
    """Names of the Deployments whose containers read any of ``keys`` from octo-secrets."""
    wanted = set(keys)
    return sorted(dep["metadata"]["name"] for dep in deployments if bound_keys(dep) & wanted)


def readers_of(deployments: Iterable[dict], key: str) -> list[str]:
    """Uids of the Deployments reading ``key``."""
    return sorted(dep["metadata"]["uid"] for dep in deployments if key in bound_keys(dep))


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 time with its zone (as the API server and the catalog write them), else None."""
    try:
        parsed = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def rolled_for(deployment: dict) -> dict:
    """{KEY: write id} that the Deployment's pod template was last rolled for (empty if never)."""
    annotations = deployment["spec"]["template"].get("metadata", {}).get("annotations") or {}
    try:
        recorded = json.loads(annotations.get(ROLLED_FOR, "{}"))
    except ValueError:
        return {}
    return recorded if isinstance(recorded, dict) else {}


def _current_by_time(deployment: dict, entry: dict) -> bool:
    """For entries from before write ids: created in a later second than the write, or rolled by 0.1 for it
    (its roll annotation carries the time of the write it followed); unknown times mean not current."""
    updated = parse_time(entry.get("updated"))
    created = parse_time(deployment["metadata"].get("creationTimestamp"))
    annotations = deployment["spec"]["template"].get("metadata", {}).get("annotations") or {}
    rotated = parse_time(annotations.get(ROTATED_AT))
    if updated is None:
        return False
    return (created is not None and created > updated) or (rotated is not None and rotated >= updated)


def _missed(deployment: dict, key: str, entry: dict, recorded: dict) -> bool:
    """Whether the Deployment's pods may hold an older value than the key's last write."""
    identity = write_identity(entry)
    if identity is None or recorded.get(key) == identity:
        return False  # rolled for that write, or no catalog entry (set by other tools): nothing to compare
    if "readers" in entry:  # read the key when it was written; created later: started with this value
        return deployment["metadata"].get("uid") in entry["readers"]
    return not _current_by_time(deployment, entry)


def needs_roll(deployment: dict, catalog: Mapping[str, dict], keys: Iterable[str]) -> bool:
    """Whether the Deployment reads one of ``keys`` and its pods missed that key's last write."""
    recorded = rolled_for(deployment)
    return any(
        _missed(deployment, key, catalog.get(key) or {}, recorded)
        for key in bound_keys(deployment) & set(keys)
    )


def roll_patch(deployment: dict, catalog: Mapping[str, dict]) -> dict:
    """Merge patch rolling the pods, recording the write id of every key the Deployment binds."""
    ids = {key: write_identity(catalog.get(key) or {}) for key in sorted(bound_keys(deployment))}
    recorded = json.dumps({k: v for k, v in ids.items() if v}, separators=(",", ":"), sort_keys=True)
    return {"spec": {"template": {"metadata": {"annotations": {ROLLED_FOR: recorded, ROTATED_AT: None}}}}}


def diff_text(changes: list[KeyChange], rolled: list[str]) -> dict:
    """Before/after naming the keys that change and the deployments that roll, with no value and no hash of one."""
    before = {"create": "(absent)", "update": "(a value)", "delete": "(a value)"}
    after = {"create": "(new value)", "update": "(changed value)", "delete": "(absent)"}
    moved = [c for c in changes if c.op != "none"]
    return {
        "before_header": names.SECRETS_NAME,
        "after_header": names.SECRETS_NAME,
        "before": "".join(f"{c.key}: {before[c.op]}\n" for c in moved)
        + "".join(f"deployment {name}: (pods read older values)\n" for name in rolled),
        "after": "".join(f"{c.key}: {after[c.op]}\n" for c in moved)
        + "".join(f"deployment {name}: (rolled)\n" for name in rolled),
    }
