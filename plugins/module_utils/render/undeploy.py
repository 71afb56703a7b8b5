"""Plan the teardown of one deployment.

Only objects this collection manages are deleted. The Service shared by the slug (``octo-int-<slug>``) goes
only with the last deployment of the slug.
"""

from __future__ import annotations

from collections.abc import Iterable

from ansible_collections.octo.platform.plugins.module_utils.render import names
from ansible_collections.octo.platform.plugins.module_utils.render.plan import Plan, delete_actions


def plan_undeploy(actual: Iterable[dict], deployment_id: str, slug: str, other_deployments: int) -> Plan:
    """Delete actions for ``actual`` (objects read by the deployment selector plus, if present, the shared
    Service) given how many other deployments of ``slug`` remain."""
    return Plan(delete_actions(undeploy_targets(actual, deployment_id, slug, other_deployments)))


def undeploy_targets(
    actual: Iterable[dict], deployment_id: str, slug: str, other_deployments: int
) -> list[dict]:
    """The objects of ``actual`` to delete."""
    return [
        obj
        for obj in actual
        if _labels(obj).get(names.LABEL_MANAGED_BY) == names.MANAGED_BY
        and (
            _labels(obj).get(names.LABEL_DEPLOYMENT) == deployment_id
            or (other_deployments == 0 and _is_shared_service(obj, slug))
        )
    ]


def other_deployment_ids(objects: Iterable[dict], deployment_id: str, slug: str) -> set[str]:
    """Ids of the other deployments of ``slug`` among ``objects`` (e.g. the Deployments labelled with the slug)."""
    ids = set()
    for obj in objects:
        labels = _labels(obj)
        if (
            labels.get(names.LABEL_MANAGED_BY) == names.MANAGED_BY
            and labels.get(names.LABEL_SLUG) == slug
            and labels.get(names.LABEL_DEPLOYMENT) not in (None, deployment_id)
        ):
            ids.add(labels[names.LABEL_DEPLOYMENT])
    return ids


def _is_shared_service(obj: dict, slug: str) -> bool:
    return (
        obj.get("kind") == "Service"
        and obj.get("apiVersion") == "v1"
        and (obj.get("metadata") or {}).get("name") == names.integration_service_name(slug)
        and _labels(obj).get(names.LABEL_SLUG) == slug
    )


def _labels(obj: dict) -> dict:
    return (obj.get("metadata") or {}).get("labels") or {}
