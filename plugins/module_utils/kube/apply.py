"""Carry out one planned action against the API server."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.render.plan import Action


def apply_action(kube: Kube, action: Action) -> None:
    """Server-side apply of a create/update, or a delete."""
    if action.op == "delete":
        kube.delete(res.resource_for(action.actual), action.name, action.namespace)
    else:
        kube.apply(res.resource_for(action.desired), action.desired)
