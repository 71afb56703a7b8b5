"""Who owns which field: the ``metadata.managedFields[].fieldsV1`` encoding of server-side apply.

A path is a tuple of segments, the fieldsV1 keys decoded: ``("f", name)`` a map field, ``("k", key)`` a list
entry by its merge key (``key``: sorted ``(field, value)`` pairs), ``("v", value)`` a set entry by value,
``("i", index)`` an entry by position, and ``SELF`` (the ``"."`` key) for "the entry itself". A path ending in
a field with no children is a leaf the manager owns (a scalar, or an atomic list or map as a whole).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

OWN_MANAGER = "octo.platform"  # this collection's managers are all named octo.platform*
SELF = (".", "")
ENTRY_NOUNS = {  # how describe_entry names an entry of a list (default: the list name)
    "containers": "container",
    "initContainers": "init container",
    "volumes": "volume",
    "volumeMounts": "volume mount",
    "ports": "port",
    "imagePullSecrets": "image pull secret",
}


def is_own(manager: str) -> bool:
    return manager.startswith(OWN_MANAGER)


def merge_key(pairs: Iterable[tuple[str, object]]) -> tuple:
    """The canonical form of a list entry's key, as decoded from ``k:{...}``."""
    return tuple(sorted(pairs))


def decode(segment: str) -> tuple:
    """One fieldsV1 key as a path segment."""
    if segment == ".":
        return SELF
    prefix, _sep, rest = segment.partition(":")
    if prefix == "f":
        return "f", rest
    if prefix == "k":
        return "k", merge_key(json.loads(rest).items())
    if prefix == "v":
        return "v", json.dumps(json.loads(rest), sort_keys=True)
    if prefix == "i":
        return "i", int(rest)
    return "?", segment  # a newer encoding: kept, matching no path of ours


def owned_paths(fields_v1: dict, prefix: tuple = ()) -> frozenset:
    """Every path a fieldsV1 tree marks: its leaves, and entries marked with ``"."`` (as path + SELF)."""
    found = set()
    for segment, children in (fields_v1 or {}).items():
        path = (*prefix, decode(segment))
        if children:
            found |= owned_paths(children, path)
        else:
            found.add(path)
    return frozenset(found)


def ownership(obj: dict) -> dict[str, frozenset]:
    """Owned paths per manager name (its Apply and Update entries together)."""
    owned: dict[str, frozenset] = {}
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        manager = entry.get("manager") or ""
        owned[manager] = owned.get(manager, frozenset()) | owned_paths(entry.get("fieldsV1") or {})
    return owned


def owners_of_field(owned: dict[str, frozenset], path: tuple) -> list[str]:
    """Managers owning the value at ``path``: the leaf itself or an atomic ancestor."""
    prefixes = {path[:end] for end in range(1, len(path) + 1)}
    return sorted(manager for manager, paths in owned.items() if paths & prefixes)


def owners_of_entry(owned: dict[str, frozenset], path: tuple) -> list[str]:
    """Managers owning anything of the list entry at ``path`` (the entry itself or a field in it)."""
    size = len(path)
    return sorted(manager for manager, paths in owned.items() if any(p[:size] == path for p in paths))


def foreign(managers: Iterable[str]) -> list[str]:
    return [manager for manager in managers if not is_own(manager)]


def quoted(managers: Iterable[str]) -> str:
    return ", ".join(f"'{manager}'" for manager in managers)


def dotted(path: tuple) -> str:
    """A field path as text: ``spec.template.spec.containers[octo].env[LOG_LEVEL].value``."""
    text = ""
    for kind, value in path:
        if kind == "f":
            text += f".{value}" if text else value
        elif kind in ("k", "v", "i"):
            text += f"[{_label(kind, value)}]"
    return text


def describe_entry(path: tuple) -> str:
    """A list entry as text, innermost first: ``env EXTRA of container octo``, ``port 9090/TCP``."""
    parts = []
    for index, (kind, value) in enumerate(path):
        if kind in ("k", "v", "i") and index and path[index - 1][0] == "f":
            noun = ENTRY_NOUNS.get(path[index - 1][1], path[index - 1][1])
            parts.append(f"{noun} {_label(kind, value)}")
    return " of ".join(reversed(parts))


def _label(kind: str, value) -> str:
    return "/".join(str(v) for _field, v in value) if kind == "k" else str(value)
