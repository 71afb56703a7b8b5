"""Teardown of one deployment: its own objects always, the slug's shared Service only with the last one."""

from __future__ import annotations

import copy

from ansible_collections.octo.platform.plugins.module_utils.render.integration import render
from ansible_collections.octo.platform.plugins.module_utils.render.ownership import live_siblings
from ansible_collections.octo.platform.plugins.module_utils.render.plan import stamp
from ansible_collections.octo.platform.plugins.module_utils.render.undeploy import (
    plan_undeploy,
    undeploy_targets,
)


def deployed(request, server_copy) -> list[dict]:
    return [server_copy(stamp(obj)) for obj in render(request).objects]


def test_last_deployment_takes_the_shared_service(exposed_request, server_copy):
    actual = deployed(exposed_request(), server_copy)
    result = plan_undeploy(actual, "d41", "orders", other_deployments=0)
    assert [(a.op, a.kind, a.name) for a in result.actions] == [
        ("delete", "Ingress", "octo-dep-d41"),
        ("delete", "Service", "octo-dep-d41"),
        ("delete", "Service", "octo-int-orders"),
        ("delete", "Deployment", "octo-dep-d41"),
        ("delete", "ConfigMap", "octo-dep-d41"),
    ]
    assert result.changed
    assert all(a.after is None and a.before for a in result.actions)


def test_shared_service_stays_while_other_deployments_remain(network_request, server_copy):
    actual = deployed(network_request(), server_copy)
    names = [(obj["kind"], obj["metadata"]["name"]) for obj in undeploy_targets(actual, "d41", "orders", 2)]
    assert names == [
        ("ConfigMap", "octo-dep-d41"),
        ("Deployment", "octo-dep-d41"),
        ("Service", "octo-dep-d41"),
    ]


def test_only_managed_objects_of_this_deployment_are_deleted(network_request, server_copy):
    mine = deployed(network_request(), server_copy)
    sibling = deployed(network_request(deployment_id="d42"), server_copy)
    foreign = copy.deepcopy(mine[0])
    foreign["metadata"]["name"] = "hand-made"
    foreign["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "Helm"
    other_slug = deployed(network_request(slug="billing", deployment_id="d9"), server_copy)[3]
    targets = undeploy_targets([*mine, *sibling[:3], foreign, other_slug], "d41", "orders", 0)
    assert [(obj["kind"], obj["metadata"]["name"]) for obj in targets] == [
        ("ConfigMap", "octo-dep-d41"),
        ("Deployment", "octo-dep-d41"),
        ("Service", "octo-dep-d41"),
        ("Service", "octo-int-orders"),
    ]


def test_nothing_left_means_no_change():
    result = plan_undeploy([], "d41", "orders", 0)
    assert not result.changed
    assert result.actions == []


def test_live_siblings(network_request, worker_request, server_copy):
    objects = [
        *deployed(network_request(), server_copy),
        *deployed(network_request(deployment_id="d42"), server_copy),
        *deployed(network_request(deployment_id="d43"), server_copy),
        *deployed(worker_request(), server_copy),
    ]
    assert live_siblings(objects, "orders", {"d41"}) == {"d42", "d43"}
    assert live_siblings(objects, "nightly-sync", {"d42"}) == {"w7"}
    assert live_siblings(objects[:4], "orders", {"d41"}) == set()
    objects[5]["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:01Z"  # d42's Deployment, being deleted
    assert live_siblings(objects, "orders", {"d41"}) == {"d43"}


def test_objects_this_collection_did_not_create_are_never_deleted(network_request, server_copy):
    """A user's ConfigMap with our labels (created by kubectl, another field manager) is left alone."""
    mine = deployed(network_request(), server_copy)
    users = copy.deepcopy(mine[0])
    users["metadata"]["name"] = "users-own-notes"
    users["metadata"]["managedFields"] = [{"manager": "kubectl-create", "operation": "Update"}]
    targets = undeploy_targets([*mine, users], "d41", "orders", 0)
    assert "users-own-notes" not in [obj["metadata"]["name"] for obj in targets]
    assert len(targets) == len(mine)
