"""Plan the actions that turn the actual objects into the desired ones.

An object is unchanged ("none") when the server copy carries the hash of the same desired object AND still
contains every desired field (so manual edits, drift, are repaired). Server-added fields are ignored.

Other field managers (per managedFields): entries they added to a keyed list are left in place and do not make
an object changed; extra entries this collection owns do (the update removes them). Each action carries
warnings naming foreign entries left in place, fields taken back from another manager, and hand-edited
entries being restored (see kube.apply for that repair).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.render import fields
from ansible_collections.octo.platform.plugins.module_utils.render.kinds import delete_rank
from ansible_collections.octo.platform.plugins.module_utils.render.normalize import (
    Difference,
    differences,
    project,
    rekeyed,
    strip_server_fields,
)

APPLIED_HASH = "octo.dev/applied-hash"
REDACTED = "<redacted>"
OPS = ("create", "update", "delete", "none")


def stamp(obj: dict) -> dict:
    """``obj`` with metadata.annotations[APPLIED_HASH] = sha256 of its canonical JSON without it; a new object
    down to the annotations (the rest is shared with ``obj``, which nothing writes to)."""
    metadata = obj.get("metadata") or {}
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != APPLIED_HASH}
    hashed_metadata = {k: v for k, v in metadata.items() if k != "annotations"}
    if annotations:
        hashed_metadata["annotations"] = annotations
    canonical = json.dumps(
        {**obj, "metadata": hashed_metadata}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    annotations[APPLIED_HASH] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return {**obj, "metadata": {**metadata, "annotations": annotations}}


@dataclass(frozen=True)
class Action:
    op: str  # create | update | delete | none
    kind: str
    api_version: str
    name: str
    namespace: str | None
    desired: dict | None  # stamped desired object; None for delete
    actual: dict | None  # server object as read; None for create
    # Readable diff sides of a change: project(actual, desired) vs desired, None for absent; an unchanged
    # object ("none") has no diff and carries neither.
    before: dict | None
    after: dict | None
    warnings: tuple[str, ...] = ()  # e.g. fields another field manager owns

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Plan:
    actions: list[Action]

    @property
    def changed(self) -> bool:
        return any(action.op != "none" for action in self.actions)

    @property
    def creates(self) -> list[Action]:
        return self._with_op("create")

    @property
    def updates(self) -> list[Action]:
        return self._with_op("update")

    @property
    def deletes(self) -> list[Action]:
        return self._with_op("delete")

    def summary(self) -> dict:
        return {op: len(self._with_op(op)) for op in OPS}

    def diffs(self) -> list[dict]:
        """Ansible diff entries (before/after with headers) of the actions that change something."""
        return [
            {
                "before_header": action.ref,
                "after_header": action.ref,
                "before": action.before or {},
                "after": action.after or {},
            }
            for action in self.actions
            if action.op != "none"
        ]

    def _with_op(self, op: str) -> list[Action]:
        return [action for action in self.actions if action.op == op]


def plan(desired: list[dict], actual: Iterable[dict], delete_unwanted: bool = True) -> Plan:
    """Actions in desired order, then deletions of unwanted actual objects (dependents first)."""
    remaining = {object_key(obj): obj for obj in actual}
    actions = []
    for obj in desired:
        wanted = stamp(obj)
        actions.append(_compare(wanted, remaining.pop(object_key(wanted), None)))
    if delete_unwanted:
        actions.extend(delete_actions(remaining.values()))
    return Plan(actions)


def delete_actions(objects: Iterable[dict]) -> list[Action]:
    """Delete actions for ``objects``, dependents first (Ingress, Services, Deployment, ConfigMap)."""
    return [_action("delete", obj, None, obj) for obj in sorted(objects, key=_delete_rank)]


def object_key(obj: dict) -> tuple:
    """Identity of an object: API group (not version), kind, namespace, name."""
    metadata = obj.get("metadata") or {}
    api_version = obj.get("apiVersion", "")
    group = api_version.split("/")[0] if "/" in api_version else ""
    return group, obj.get("kind"), metadata.get("namespace"), metadata.get("name")


def _compare(wanted: dict, actual: dict | None) -> Action:
    """Unchanged when the hash matches, every desired field is there, and every extra keyed-list entry
    belongs to another manager (theirs stay; ours that are no longer rendered go with an update)."""
    if actual is None:
        return _action("create", wanted, wanted, None)
    found = differences(wanted, actual)
    same_hash = _annotations(actual).get(APPLIED_HASH) == _annotations(wanted)[APPLIED_HASH]
    if not found:  # nothing to compare with its owners
        return _action("none" if same_hash else "update", wanted, wanted, actual)
    owned = fields.ownership(actual)
    drift = any(d.kind != "extra" or _is_ours(owned, d) for d in found)
    ref = f"{wanted.get('kind')} {wanted['metadata'].get('name')}"
    staying = _staying(found, owned)
    warnings = (
        *(_restored(ref, extra, entry, owned) for extra, entry in _restoring(found, owned)),
        *(_left_in_place(ref, extra, owned) for extra in staying),
        *_taken_back(ref, [d for d in found if d.kind == "differs"], owned, same_hash),
    )
    op = "none" if same_hash and not drift else "update"
    return _action(op, wanted, wanted, actual, warnings, [extra.pointer for extra in staying])


def _is_ours(owned: dict, extra: Difference) -> bool:
    owners = fields.owners_of_entry(owned, extra.path)
    return bool(owners) and not fields.foreign(owners)


def _restoring(found: list[Difference], owned: dict) -> list[tuple[Difference, Difference]]:
    """Hand-edited entries (not ours) that clash with a rendered one: the apply puts ours in their place.
    Extra entries of our own are silent: the update removes them (a port changed by a new definition)."""
    return [(extra, entry) for extra, entry in rekeyed(found) if not _is_ours(owned, extra)]


def _staying(found: list[Difference], owned: dict) -> list[Difference]:
    """Extra entries the apply leaves in place: other managers' (or nobody's), except those being restored."""
    replaced = {extra.path for extra, _entry in _restoring(found, owned)}
    return [d for d in found if d.kind == "extra" and d.path not in replaced and not _is_ours(owned, d)]


def _restored(ref: str, extra: Difference, entry: Difference, owned: dict) -> str:
    by = fields.quoted(fields.foreign(fields.owners_of_entry(owned, extra.path))) or "another writer"
    return (
        f"{ref}: {fields.describe_entry(extra.path)} set by {by} replaces the rendered "
        f"{fields.describe_entry(entry.path)}: restoring it"
    )


def _left_in_place(ref: str, extra: Difference, owned: dict) -> str:
    managers = fields.foreign(fields.owners_of_entry(owned, extra.path))
    whose = f"is managed by {fields.quoted(managers)}, not" if managers else "is not managed by"
    return f"{ref}: {fields.describe_entry(extra.path)} {whose} {fields.OWN_MANAGER}: left in place"


def _taken_back(ref: str, differing: list[Difference], owned: dict, same_hash: bool) -> list[str]:
    """One warning per foreign manager owning desired fields that hold another value. Fields that changed
    while the rendered object did not (same hash), with no foreign owner, were changed by a writer the server
    did not record (a 1.20 API server records none for the scale subresource: ``kubectl scale``)."""
    taken: dict[str, list[str]] = {}
    for differ in differing:
        managers = fields.foreign(fields.owners_of_field(owned, differ.path))
        for who in [f"from '{m}'" for m in managers] or (["from an unrecorded writer"] if same_hash else []):
            taken.setdefault(who, []).append(fields.dotted(differ.path))
    return [f"{ref}: took back {', '.join(paths)} {who}" for who, paths in taken.items()]


def _action(
    op: str,
    identity: dict,
    desired: dict | None,
    actual: dict | None,
    warnings: tuple[str, ...] = (),
    staying: Iterable[tuple] = (),
) -> Action:
    """``staying``: pointers of entries left in place, kept out of the diff (they do not change)."""
    metadata = identity.get("metadata") or {}
    actual = _redacted(actual)
    after = _without_hash(desired) if desired is not None and op != "none" else None
    before = None
    if actual is not None and op != "none":
        before = _drop_hash(strip_server_fields(actual))
        if after is not None:
            before = _without_entries(project(before, after), staying)
    return Action(
        op=op,
        kind=identity.get("kind", ""),
        api_version=identity.get("apiVersion", ""),
        name=metadata.get("name", ""),
        namespace=metadata.get("namespace"),
        desired=desired,
        actual=actual,
        before=before,
        after=after,
        warnings=warnings,
    )


def _without_entries(obj: dict, pointers: Iterable[tuple]) -> dict:
    """``obj`` (a copy of ours) without the list entries at ``pointers``: last and deepest first, so the
    indices of the others stay valid."""
    for pointer in sorted(pointers, reverse=True):
        parent = obj
        for part in pointer[:-1]:
            parent = parent[part]
        del parent[pointer[-1]]
    return obj


def _redacted(obj: dict | None) -> dict | None:
    """Secret values never travel in an Action, even for a Secret that happens to be among the actual objects."""
    if obj is None or obj.get("kind") != "Secret":
        return obj
    clean = copy.deepcopy(obj)
    for key in ("data", "stringData"):
        if isinstance(clean.get(key), dict):
            clean[key] = dict.fromkeys(clean[key], REDACTED)
    annotations = (clean.get("metadata") or {}).get("annotations") or {}
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return clean


def _annotations(obj: dict) -> dict:
    return (obj.get("metadata") or {}).get("annotations") or {}


def _without_hash(obj: dict) -> dict:
    """A copy of ``obj`` without the APPLIED_HASH annotation (and without annotations if none remain)."""
    return _drop_hash(copy.deepcopy(obj))


def _drop_hash(clean: dict) -> dict:
    """``clean`` (a copy of ours) without the APPLIED_HASH annotation, and without annotations if none remain."""
    metadata = clean.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("annotations"), dict):
        metadata["annotations"].pop(APPLIED_HASH, None)
        if not metadata["annotations"]:
            del metadata["annotations"]
    return clean


def _delete_rank(obj: dict) -> tuple:
    metadata = obj.get("metadata") or {}
    return delete_rank(obj), metadata.get("namespace") or "", metadata.get("name") or ""
