"""Plan the teardown of one deployment.

Only objects this collection created are deleted (its field manager in managedFields: labels alone prove
nothing). The Service shared by the slug (``octo-int-<slug>``) goes only with the last deployment of the slug.
"""

from __future__ import annotations

from collections.abc import Iterable

from ansible_collections.octo.platform.plugins.module_utils.render import names
from ansible_collections.octo.platform.plugins.module_utils.render.ownership import (
    deployment_id_of,
    is_ours,
    is_shared_service,
    labels_of,
)
from ansible_collections.octo.platform.plugins.module_utils.render.plan import Plan, delete_actions


def plan_undeploy(
    actual: Iterable[dict], deployment_id: str, slug: str | None, other_deployments: int
) -> Plan:
    """Delete actions for ``actual`` (objects read by the deployment's or the slug's selector) given how many
    other deployments of ``slug`` remain."""
    return Plan(delete_actions(undeploy_targets(actual, deployment_id, slug, other_deployments)))


def undeploy_targets(
    actual: Iterable[dict], deployment_id: str, slug: str | None, other_deployments: int
) -> list[dict]:
    """The objects of ``actual`` to delete."""
    return [
        obj
        for obj in actual
        if is_ours(obj)
        and labels_of(obj).get(names.LABEL_MANAGED_BY) == names.MANAGED_BY
        and (
            deployment_id_of(obj) == deployment_id
            or (other_deployments == 0 and slug is not None and is_shared_service(obj, slug))
        )
    ]
