"""Compare desired objects with what the API server returns, ignoring what the server adds.

Keyed lists (containers, env, ports, ...) compare by merge key as the server merges them; others by position.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.render.fields import merge_key

SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionGracePeriodSeconds",
)
SERVER_ANNOTATIONS = (
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/last-applied-configuration",
)
_EMPTY = ("", [], {})
# Lists compared by merge key (as the API server merges them), by (parent field, list field); "*": any parent.
MERGE_KEYS = {
    ("*", "containers"): ("name",),
    ("*", "initContainers"): ("name",),
    ("*", "env"): ("name",),
    ("*", "volumes"): ("name",),
    ("*", "imagePullSecrets"): ("name",),
    ("*", "volumeMounts"): ("mountPath",),
    ("containers", "ports"): ("containerPort", "protocol"),
    ("initContainers", "ports"): ("containerPort", "protocol"),
    ("spec", "ports"): ("port", "protocol"),  # a Service's ports
}
KEY_DEFAULTS = {"protocol": "TCP"}  # key fields the server defaults when absent
UNIQUE_NAMES = frozenset({"ports"})  # keyed lists whose entries' names must be unique too


def strip_server_fields(obj: dict) -> dict:
    """A copy of ``obj`` without status, server bookkeeping metadata and server-written annotations (what is
    dropped, managedFields above all, is left out before copying)."""
    stripped = {key: value for key, value in obj.items() if key != "status"}
    metadata = stripped.get("metadata")
    if isinstance(metadata, dict):
        stripped["metadata"] = {key: value for key, value in metadata.items() if key not in SERVER_METADATA}
    stripped = copy.deepcopy(stripped)
    metadata = stripped.get("metadata")
    if isinstance(metadata, dict):
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            for key in SERVER_ANNOTATIONS:
                annotations.pop(key, None)
            if not annotations:
                del metadata["annotations"]
    return stripped


@dataclass(frozen=True)
class Difference:
    """One way ``actual`` falls short of ``desired``, at ``path`` (fields segments; see render.fields).

    kind: ``differs`` (another value), ``missing`` (absent), ``unmatched`` (a keyed list lacks desired entries;
    path is the list), ``extra`` (an actual keyed-list entry desired lacks). ``pointer``: where in ``actual``
    (keys and list indices), for a JSON patch.
    """

    kind: str
    path: tuple
    pointer: tuple
    desired: object
    actual: object


def merge_key_fields(path: tuple) -> tuple[str, ...] | None:
    """Merge key of the list at ``path`` (None: an atomic list, compared by position)."""
    if not path or path[-1][0] != "f":
        return None
    parents = [value for kind, value in path[:-1] if kind == "f"]
    field = path[-1][1]
    return MERGE_KEYS.get((parents[-1] if parents else "", field)) or MERGE_KEYS.get(("*", field))


def entry_key(entry: dict, fields: tuple[str, ...]) -> tuple:
    return merge_key((name, entry.get(name, KEY_DEFAULTS.get(name))) for name in fields)


def differences(desired, actual, path: tuple = (), pointer: tuple = ()) -> list[Difference]:
    """Every difference of ``actual`` from ``desired``; keyed lists compare by merge key, not position.

    A number equals the same number as a string (int-or-string fields). ``None`` in desired means "absent":
    anything matches. An empty string, list or mapping in desired also matches an absent key (the server
    omits empty fields). Atomic lists compare element-wise and must have the same length.
    """
    if desired is None or (actual is None and _is_empty(desired)):
        return []
    if actual is None:
        return [Difference("missing", path, pointer, desired, None)]
    if isinstance(desired, dict) and isinstance(actual, dict):
        found = []
        for key, value in desired.items():
            found += differences(value, actual.get(key), (*path, ("f", key)), (*pointer, key))
        return found
    fields = merge_key_fields(path)
    if fields and isinstance(desired, list) and isinstance(actual, list):
        return _keyed_differences(desired, actual, fields, path, pointer)
    return [] if _equal(desired, actual) else [Difference("differs", path, pointer, desired, actual)]


def is_subset(desired, actual) -> bool:
    """Whether every key/value of ``desired`` is in ``actual`` (entries of keyed lists found by key)."""
    return all(found.kind == "extra" for found in differences(desired, actual))


def rekeyed(found: list[Difference]) -> list[tuple[Difference, Difference]]:
    """Extra entries that took the name of an unmatched desired entry, each with that entry (as ``missing``,
    its ``pointer`` the extra's place).

    In lists whose names must be unique but are not the key (ports), a hand edit of the key (the port
    number) leaves such an entry: applying the rendered one beside it is rejected as a duplicate name.
    """
    pairs = []
    for unmatched in (d for d in found if d.kind == "unmatched" and d.path[-1][1] in UNIQUE_NAMES):
        fields = merge_key_fields(unmatched.path)
        present = {entry_key(e, fields) for e in unmatched.actual if isinstance(e, dict)}
        wanted = {e.get("name"): e for e in unmatched.desired if entry_key(e, fields) not in present}
        for extra in found:
            if extra.kind != "extra" or extra.path[:-1] != unmatched.path:
                continue
            entry = wanted.get(extra.actual.get("name"))
            if entry is not None:
                path = (*unmatched.path, ("k", entry_key(entry, fields)))
                pairs.append((extra, Difference("missing", path, extra.pointer, entry, None)))
    return pairs


def repair_patch(desired: dict, actual: dict) -> list[dict]:
    """JSON patch putting each rekeyed entry's desired entry in its place (empty: nothing to repair).

    It first tests the resourceVersion, so it applies to exactly the object it was computed from.
    """
    replacements = [
        {"op": "replace", "path": _pointer(entry.pointer), "value": entry.desired}
        for _extra, entry in rekeyed(differences(desired, actual))
    ]
    if not replacements:
        return []
    version = (actual.get("metadata") or {}).get("resourceVersion")
    return [{"op": "test", "path": "/metadata/resourceVersion", "value": version}, *replacements]


def project(actual, shape, path: tuple = ()):
    """``actual`` restricted to the keys present in ``shape``, recursively (for readable diffs).

    Entries of keyed lists are matched by key, of atomic lists by position; actual entries without a match
    in ``shape`` are kept whole so the diff shows them.
    """
    if isinstance(shape, dict) and isinstance(actual, dict):
        return {
            key: project(actual[key], value, (*path, ("f", key)))
            for key, value in shape.items()
            if key in actual
        }
    if isinstance(shape, list) and isinstance(actual, list):
        fields = merge_key_fields(path)
        if fields:
            shapes = {entry_key(e, fields): e for e in shape if isinstance(e, dict)}
            matched = [shapes.get(entry_key(e, fields)) if isinstance(e, dict) else None for e in actual]
        else:
            matched = [shape[index] if index < len(shape) else None for index in range(len(actual))]
        return [
            have if want is None else project(have, want, path)
            for have, want in zip(actual, matched)  # noqa: B905 - same length; strict= needs Python 3.10
        ]
    return actual


def _keyed_differences(desired: list, actual: list, fields, path: tuple, pointer: tuple) -> list[Difference]:
    by_key = {entry_key(e, fields): (index, e) for index, e in enumerate(actual) if isinstance(e, dict)}
    found, wanted, unmatched = [], set(), False
    for entry in desired:
        key = entry_key(entry, fields)
        wanted.add(key)
        if key not in by_key:
            unmatched = True
            continue
        index, have = by_key[key]
        found += differences(entry, have, (*path, ("k", key)), (*pointer, index))
    if unmatched:
        found.append(Difference("unmatched", path, pointer, desired, actual))
    for key, (index, have) in by_key.items():
        if key not in wanted:
            found.append(Difference("extra", (*path, ("k", key)), (*pointer, index), None, have))
    return found


def _equal(desired, actual) -> bool:
    """Scalars, and atomic lists element by element (a dict here has a non-dict actual)."""
    if isinstance(desired, list):
        return (
            isinstance(actual, list)
            and len(desired) == len(actual)
            and all(is_subset(want, have) for want, have in zip(desired, actual))  # noqa: B905 - lengths checked; Python 3.9
        )
    return not isinstance(desired, dict) and _scalar_equal(desired, actual)


def _pointer(parts: tuple) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _is_empty(value) -> bool:
    return any(type(value) is type(empty) and value == empty for empty in _EMPTY)


def _scalar_equal(desired, actual) -> bool:
    if isinstance(desired, bool) or isinstance(actual, bool):
        return type(desired) is type(actual) and desired == actual
    if isinstance(desired, (int, float)) and isinstance(actual, str):
        return str(desired) == actual
    if isinstance(desired, str) and isinstance(actual, (int, float)):
        return desired == str(actual)
    return desired == actual
