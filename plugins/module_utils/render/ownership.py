"""Facts read from server objects: whether this collection created them, which deployment and slug they
belong to, what port a deployment serves."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.render import names
from ansible_collections.octo.platform.plugins.module_utils.render.integration import PORT_NAME

FIELD_MANAGER = "octo.platform"


def is_ours(obj: dict) -> bool:
    """Labels alone prove nothing (anyone can copy them): the field manager of our server-side applies does."""
    metadata = obj.get("metadata") or {}
    return any(entry.get("manager") == FIELD_MANAGER for entry in metadata.get("managedFields") or [])


def labels_of(obj: dict) -> dict:
    return (obj.get("metadata") or {}).get("labels") or {}


def deployment_id_of(obj: dict) -> str | None:
    return labels_of(obj).get(names.LABEL_DEPLOYMENT)


def is_terminating(obj: dict) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def live_siblings(objects: list[dict], slug: str, excluded: set[str]) -> set[str]:
    """Ids of the slug's Deployments among ``objects`` that are not being deleted, except ``excluded``."""
    return {
        deployment_id_of(obj)
        for obj in objects
        if obj.get("kind") == "Deployment"
        and labels_of(obj).get(names.LABEL_SLUG) == slug
        and labels_of(obj).get(names.LABEL_MANAGED_BY) == names.MANAGED_BY
        and deployment_id_of(obj) not in excluded
        and not is_terminating(obj)
    }


def is_shared_service(obj: dict, slug: str) -> bool:
    return obj.get("kind") == "Service" and obj["metadata"]["name"] == names.integration_service_name(slug)


def served_port(obj: dict) -> int | None:
    """The HTTP port a sibling's Deployment serves (its container port named like ours)."""
    if obj.get("kind") != "Deployment":
        return None
    for container in obj["spec"]["template"]["spec"].get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == PORT_NAME:
                return port.get("containerPort")
    return None
