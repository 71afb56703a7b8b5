"""Carry out one planned action against the API server.

A hand edit of a keyed entry's key (``kubectl edit`` of a Service port or a containerPort) leaves an entry
that server-side apply cannot remove (another manager owns it) and that clashes with the rendered one
(duplicate port name: 422). Such an apply is repaired once: a JSON patch, as this collection's field
manager, puts the rendered entry in the edited one's place, then the apply runs again. If that fails too,
the original error is reported.
"""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError, Kube
from ansible_collections.octo.platform.plugins.module_utils.render.normalize import repair_patch
from ansible_collections.octo.platform.plugins.module_utils.render.plan import Action

INVALID = 422


def apply_action(kube: Kube, action: Action) -> None:
    """Server-side apply of a create/update (repairing hand-edited keyed entries), or a delete."""
    if action.op == "delete":
        kube.delete(res.resource_for(action.actual), action.name, action.namespace)
        return
    resource = res.resource_for(action.desired)
    try:
        kube.apply(resource, action.desired)
    except ApiError as err:
        if err.status != INVALID or action.op != "update" or not _repaired(kube, resource, action):
            raise
        try:
            kube.apply(resource, action.desired)
        except OctoError:
            raise err from None


def _repaired(kube: Kube, resource, action: Action) -> bool:
    """Put rendered entries in place of the hand-edited ones they clash with; False when there are none."""
    current = kube.get(resource, action.name, action.namespace)
    patch = repair_patch(action.desired, current) if current else []
    if not patch:
        return False
    try:
        kube.json_patch(resource, action.name, action.namespace, patch)
    except OctoError:
        return False
    return True
