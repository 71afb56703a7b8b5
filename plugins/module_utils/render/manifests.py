"""Pure side of the `manifests` module: parse and validate definitions, stamp owner labels, plan, mask secrets.

Planning reuses render.plan (hash + field comparison) for every kind except Secrets: no hash of a Secret's
values is ever written or returned, so a Secret is unchanged when its desired keys hold the same values and no
key this collection set earlier has left the definition.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import fields, names
from ansible_collections.octo.platform.plugins.module_utils.render.normalize import is_subset
from ansible_collections.octo.platform.plugins.module_utils.render.plan import (
    Action,
    Plan,
    delete_actions,
    object_key,
    plan,
)

try:
    import yaml

    IMPORT_ERROR = None
except ImportError as err:  # pragma: no cover - depends on the host
    IMPORT_ERROR = err

OWNER_LABEL = "octo.platform/owner"
HIDDEN = "(hidden)"
WHAT = "manifests"
SECRET_FIELDS = ("data", "stringData")
# Kinds applied before the others (and deleted after them): what other objects live in or are made of.
FIRST = ("Namespace", "CustomResourceDefinition")
ACTION_WORDS = {"create": "created", "update": "updated", "none": "unchanged", "delete": "deleted"}
_OWNER = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_KIND_REF = re.compile(r"(?P<api_version>([^/]+/)?[^/]+)/(?P<kind>[A-Za-z0-9]+)")

# (apiVersion, kind) -> True (namespaced), False (cluster-scoped), None (the server has no such kind)
Scope = Callable[[str, str], "bool | None"]


@dataclass(frozen=True)
class KindRef:
    api_version: str
    kind: str


def check_owner(owner: str) -> None:
    if not isinstance(owner, str) or len(owner) > names.MAX_LABEL or not _OWNER.fullmatch(owner):
        raise ValidationError(WHAT, "owner", f"{owner!r} must be 1-63 characters of a-z, 0-9 and '-'")


def parse_definitions(definitions) -> list[dict]:
    """A list of manifests (dicts or YAML texts) or one YAML text -> the manifests, `List` kinds flattened."""
    items = definitions if isinstance(definitions, list) else [definitions]
    found: list[dict] = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            found.extend(_documents(item, index))
        elif isinstance(item, dict):
            found.append(item)
        elif item is not None:
            raise ValidationError(WHAT, f"definitions[{index}]", "must be a mapping or YAML text")
    flat = []
    for obj in found:
        is_list = isinstance(obj.get("kind"), str) and obj["kind"].endswith("List") and "items" in obj
        flat.extend(obj["items"] or [] if is_list else [obj])
    return flat


def _documents(text: str, index: int) -> list[dict]:
    if IMPORT_ERROR is not None:
        raise OctoError("import", "yaml", f"install the Python package 'PyYAML' ({IMPORT_ERROR})")
    try:
        docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as err:
        raise ValidationError(WHAT, f"definitions[{index}]", f"is not valid YAML ({err})") from None
    for doc in docs:
        if not isinstance(doc, dict):
            raise ValidationError(
                WHAT, f"definitions[{index}]", "holds a YAML document that is not a mapping"
            )
    return docs


def kind_refs(objects: list[dict], prune_kinds: Iterable[str]) -> list[KindRef]:
    """The kinds of the definitions plus ``prune_kinds`` ("apiVersion/Kind"), sorted, each once."""
    refs = {KindRef(obj["apiVersion"], obj["kind"]) for obj in objects}
    for text in prune_kinds:
        match = _KIND_REF.fullmatch(text or "")
        if not match:
            raise ValidationError(
                WHAT, "prune_kinds", f"{text!r} is not 'apiVersion/Kind' (e.g. v1/ConfigMap)"
            )
        refs.add(KindRef(match["api_version"], match["kind"]))
    return sorted(refs, key=lambda ref: (ref.api_version, ref.kind))


def check_identity(objects: list[dict]) -> None:
    """Every manifest has apiVersion, kind and metadata.name (strings)."""
    for index, obj in enumerate(objects):
        metadata = obj.get("metadata")
        for field, value in (
            ("apiVersion", obj.get("apiVersion")),
            ("kind", obj.get("kind")),
            ("metadata.name", metadata.get("name") if isinstance(metadata, dict) else None),
        ):
            if not isinstance(value, str) or not value:
                raise ValidationError(WHAT, f"definitions[{index}]", f"{ref_of(obj)} has no {field}")


def ref_of(obj: dict) -> str:
    """``Kind namespace/name`` (or ``Kind name``) of a manifest, for messages."""
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = metadata.get("name") or "(unnamed)"
    where = f"{metadata['namespace']}/{name}" if metadata.get("namespace") else name
    return f"{obj.get('kind') or '(no kind)'} {where}"


def desired_objects(objects: list[dict], owner: str, namespace: str, scope: Scope) -> list[dict]:
    """Copies with namespace (per scope), owner labels and Secret stringData folded into data; duplicates fail.

    Ordered for applying: Namespaces, then CustomResourceDefinitions, then the rest in input order."""
    desired, seen = [], set()
    for obj in objects:
        namespaced = scope(obj["apiVersion"], obj["kind"])
        wanted = copy.deepcopy(obj)
        metadata = wanted["metadata"]
        if namespaced is None:
            named = {**wanted, "metadata": {"namespace": namespace, **metadata}}
            raise OctoError("apply", ref_of(named), "the server has no such kind")
        if namespaced:
            metadata.setdefault("namespace", namespace)
        else:
            metadata.pop("namespace", None)
        metadata["labels"] = {
            **(metadata.get("labels") or {}),
            OWNER_LABEL: owner,
            names.LABEL_MANAGED_BY: names.MANAGED_BY,
        }
        key = object_key(wanted)
        if key in seen:
            raise ValidationError(WHAT, "definitions", f"{ref_of(wanted)} is defined more than once")
        seen.add(key)
        desired.append(_folded(wanted) if wanted["kind"] == "Secret" else wanted)
    return sorted(desired, key=apply_rank)


def apply_rank(obj: dict) -> int:
    return FIRST.index(obj["kind"]) if obj["kind"] in FIRST else len(FIRST)


def _folded(secret: dict) -> dict:
    """stringData merged into data (base64), as the API server stores it, so the comparison sees one form."""
    string_data = secret.pop("stringData", None) or {}
    data = dict(secret.get("data") or {})
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode("utf-8")).decode("ascii")
    if data:
        secret["data"] = data
    return secret


def namespaces_of(desired: list[dict], default: str) -> list[str]:
    """Namespaces the definitions touch (the default one always), sorted."""
    found = {default} | {obj["metadata"]["namespace"] for obj in desired if obj["metadata"].get("namespace")}
    return sorted(found)


def selector(owner: str) -> str:
    return f"{OWNER_LABEL}={owner},{names.LABEL_MANAGED_BY}={names.MANAGED_BY}"


def plan_manifests(desired: list[dict], actual: Iterable[dict], prune: bool) -> Plan:
    """Actions in apply order; with ``prune``, deletions of ``actual`` objects not desired (others first)."""
    remaining = {object_key(obj): obj for obj in actual}
    actions = []
    for obj in desired:
        current = remaining.pop(object_key(obj), None)
        if obj["kind"] == "Secret":
            actions.append(_secret_action(obj, current))
        else:
            actions.extend(plan([obj], [current] if current else [], delete_unwanted=False).actions)
    if prune:  # never a Namespace: deleting one deletes everything in it, other owners' objects too
        actions.extend(deletions(obj for obj in remaining.values() if obj.get("kind") != "Namespace"))
    return Plan(actions)


def deletions(objects: Iterable[dict]) -> list[Action]:
    """Delete actions, the kinds others live in (Namespaces, CRDs) last."""
    actions = delete_actions(objects)
    return sorted(actions, key=lambda a: -apply_rank({"kind": a.kind}))


def _secret_action(wanted: dict, actual: dict | None) -> Action:
    metadata = wanted["metadata"]
    same = actual is not None and _secret_same(wanted, actual)
    before = None if actual is None else masked(_shape(actual, wanted))
    return Action(
        op="create" if actual is None else "none" if same else "update",
        kind="Secret",
        api_version=wanted["apiVersion"],
        name=metadata["name"],
        namespace=metadata.get("namespace"),
        desired=wanted,
        actual=masked(actual) if actual else None,
        before=before,
        after=masked(wanted),
    )


def _secret_same(wanted: dict, actual: dict) -> bool:
    """Desired keys hold the same values, the rest of the desired fields are there, and no data key this
    collection set earlier (per managedFields) has left the definition."""
    data, current = wanted.get("data") or {}, actual.get("data") or {}
    rest = {k: v for k, v in wanted.items() if k not in SECRET_FIELDS}
    owned = fields.ownership(actual)
    ours_gone = [
        key
        for key in current
        if key not in data
        and any(fields.is_own(m) for m in fields.owners_of_field(owned, (("f", "data"), ("f", key))))
    ]
    return all(current.get(k) == v for k, v in data.items()) and is_subset(rest, actual) and not ours_gone


def _shape(actual: dict, wanted: dict) -> dict:
    """The fields of ``actual`` that ``wanted`` sets, for a readable diff (data keys of both)."""
    shaped = {k: copy.deepcopy(actual.get(k)) for k in wanted if k in actual}
    metadata = actual.get("metadata") or {}
    shaped["metadata"] = {k: metadata.get(k) for k in wanted["metadata"] if k in metadata}
    return shaped


def masked(obj: dict | None) -> dict | None:
    """A copy of a Secret with every data/stringData value replaced by "(hidden)"; other kinds as they are."""
    if obj is None or obj.get("kind") != "Secret":
        return obj
    clean = copy.deepcopy(obj)
    for key in SECRET_FIELDS:
        if isinstance(clean.get(key), dict):
            clean[key] = dict.fromkeys(clean[key], HIDDEN)
    return clean


def masked_definitions(definitions) -> list | str:
    """The definitions as parsed, Secret values hidden (for the invocation shown at -vvv); "(hidden)" when
    they do not parse."""
    try:
        return [masked(obj) if isinstance(obj, dict) else HIDDEN for obj in parse_definitions(definitions)]
    except OctoError:
        return HIDDEN


def object_results(the_plan: Plan) -> list[dict]:
    """`objects` of the result: {apiVersion, kind, namespace, name, action}, sorted."""
    rows = [
        {
            "apiVersion": action.api_version,
            "kind": action.kind,
            "namespace": action.namespace,
            "name": action.name,
            "action": ACTION_WORDS[action.op],
        }
        for action in the_plan.actions
    ]
    return sorted(rows, key=lambda r: (r["apiVersion"], r["kind"], r["namespace"] or "", r["name"]))


# --- waiting ----------------------------------------------------------------------------------------------

ROLLOUT_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


@dataclass(frozen=True)
class Readiness:
    done: bool
    message: str
    failed: bool = False  # cannot succeed any more (a Job that failed)


def condition_readiness(obj: dict | None, condition: str, status: str) -> Readiness:
    """Whether ``obj`` has status.conditions[type=condition].status == status, and what it says otherwise."""
    if obj is None:
        return Readiness(False, "does not exist")
    found = next(
        (c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == condition), None
    )
    if found is None:
        return Readiness(False, f"has no {condition} condition yet")
    if str(found.get("status")) == status:
        return Readiness(True, f"{condition} is {status}")
    detail = ": ".join(part for part in (found.get("reason"), found.get("message")) if part)
    return Readiness(False, f"{condition} is {found.get('status')}" + (f" ({detail})" if detail else ""))


def rollout_readiness(obj: dict | None) -> Readiness:
    """Deployments/StatefulSets/DaemonSets rolled out (observed, updated, ready), Jobs complete."""
    if obj is None:
        return Readiness(False, "does not exist")
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if obj["kind"] == "Job":
        conditions = {c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"}
        if "Failed" in conditions:
            return Readiness(True, f"failed: {conditions['Failed'].get('message', '')}".strip(), failed=True)
        done = "Complete" in conditions
        return Readiness(done, "complete" if done else f"{status.get('succeeded', 0)} succeeded")
    observed = status.get("observedGeneration", 0) >= (obj.get("metadata") or {}).get("generation", 0)
    if obj["kind"] == "DaemonSet":
        want, updated = status.get("desiredNumberScheduled", 0), status.get("updatedNumberScheduled", 0)
        ready = status.get("numberAvailable", 0)
    else:
        want, updated = spec.get("replicas", 1), status.get("updatedReplicas", 0)
        ready = status.get("availableReplicas" if obj["kind"] == "Deployment" else "readyReplicas", 0)
    done = observed and updated >= want and ready >= want
    return Readiness(
        done, f"{ready}/{want} ready, {updated} updated" + ("" if observed else ", not observed yet")
    )
