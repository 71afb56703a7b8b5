"""Compare desired objects with what the API server returns, ignoring what the server adds."""

from __future__ import annotations

import copy

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


def strip_server_fields(obj: dict) -> dict:
    """A copy of ``obj`` without status, server bookkeeping metadata and server-written annotations."""
    stripped = copy.deepcopy(obj)
    stripped.pop("status", None)
    metadata = stripped.get("metadata")
    if isinstance(metadata, dict):
        for key in SERVER_METADATA:
            metadata.pop(key, None)
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            for key in SERVER_ANNOTATIONS:
                annotations.pop(key, None)
            if not annotations:
                del metadata["annotations"]
    return stripped


def is_subset(desired, actual) -> bool:
    """Whether every key/value of ``desired`` is in ``actual``.

    Lists compare element-wise and must have the same length. A number equals the same number as a string
    (int-or-string fields). ``None`` in desired means "absent": anything matches. An empty string, list or
    mapping in desired also matches an absent key (the server omits empty fields).
    """
    if desired is None or (actual is None and _is_empty(desired)):
        return True
    if isinstance(desired, dict):
        return isinstance(actual, dict) and all(
            is_subset(value, actual.get(key)) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(actual, list)
            and len(desired) == len(actual)
            and all(is_subset(want, have) for want, have in zip(desired, actual, strict=True))
        )
    return _scalar_equal(desired, actual)


def project(actual, shape):
    """``actual`` restricted to the keys present in ``shape``, recursively (for readable diffs).

    List elements beyond the length of ``shape``'s list are kept whole so the diff shows them.
    """
    if isinstance(shape, dict) and isinstance(actual, dict):
        return {key: project(actual[key], value) for key, value in shape.items() if key in actual}
    if isinstance(shape, list) and isinstance(actual, list):
        return [
            project(have, shape[index]) if index < len(shape) else have for index, have in enumerate(actual)
        ]
    return actual


def _is_empty(value) -> bool:
    return any(type(value) is type(empty) and value == empty for empty in _EMPTY)


def _scalar_equal(desired, actual) -> bool:
    if isinstance(desired, bool) or isinstance(actual, bool):
        return type(desired) is type(actual) and desired == actual
    if isinstance(desired, int | float) and isinstance(actual, str):
        return str(desired) == actual
    if isinstance(desired, str) and isinstance(actual, int | float):
        return desired == str(actual)
    return desired == actual
