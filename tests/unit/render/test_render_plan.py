"""stamp and plan: create, none despite server-added fields, update on change or drift, delete of the unwanted."""

from __future__ import annotations

import copy
import dataclasses

from ansible_collections.octo.platform.plugins.module_utils.render.integration import render
from ansible_collections.octo.platform.plugins.module_utils.render.plan import (
    APPLIED_HASH,
    Action,
    plan,
    stamp,
)

CONFIG_MAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "cm", "namespace": "ns", "labels": {"a": "1"}},
    "data": {"k": "v"},
}


def containers_fields(entry: dict) -> dict:
    return {"f:spec": {"f:template": {"f:spec": {"f:containers": entry}}}}


EXTRA_ENV_FIELDS = containers_fields(
    {'k:{"name":"octo"}': {"f:env": {'k:{"name":"EXTRA"}': {".": {}, "f:name": {}, "f:value": {}}}}}
)


def managed_by(obj: dict, manager: str, fields_v1: dict, operation: str = "Update") -> dict:
    """Record in ``obj`` (a server copy) that ``manager`` owns ``fields_v1``, as the API server does."""
    entry = {"manager": manager, "operation": operation, "fieldsV1": fields_v1}
    obj["metadata"].setdefault("managedFields", []).append(entry)
    return obj


def applied_hash(obj: dict) -> str:
    return obj["metadata"]["annotations"][APPLIED_HASH]


def served(rendered_objects, server_copy) -> list[dict]:
    return [server_copy(stamp(obj)) for obj in rendered_objects]


# --- stamp ------------------------------------------------------------------------------------------------


def test_stamp_is_deterministic_and_idempotent():
    first = stamp(CONFIG_MAP)
    assert first == stamp(copy.deepcopy(CONFIG_MAP))
    assert stamp(first) == first
    assert len(applied_hash(first)) == 64
    assert APPLIED_HASH not in (CONFIG_MAP["metadata"].get("annotations") or {})  # input untouched


def test_stamp_ignores_key_order_but_not_values():
    reordered = {
        "data": {"k": "v"},
        "metadata": {"labels": {"a": "1"}, "namespace": "ns", "name": "cm"},
        "kind": "ConfigMap",
        "apiVersion": "v1",
    }
    assert applied_hash(stamp(reordered)) == applied_hash(stamp(CONFIG_MAP))
    changed = copy.deepcopy(CONFIG_MAP)
    changed["data"]["k"] = "w"
    assert applied_hash(stamp(changed)) != applied_hash(stamp(CONFIG_MAP))


def test_stamp_ignores_a_stale_hash_and_keeps_other_annotations():
    stale = copy.deepcopy(CONFIG_MAP)
    stale["metadata"]["annotations"] = {APPLIED_HASH: "stale", "keep": "me"}
    stamped = stamp(stale)
    assert stamped["metadata"]["annotations"]["keep"] == "me"
    with_annotation = copy.deepcopy(CONFIG_MAP)
    with_annotation["metadata"]["annotations"] = {"keep": "me"}
    assert applied_hash(stamped) == applied_hash(stamp(with_annotation))


def test_rendered_objects_stamp_the_same_every_time(exposed_request):
    hashes = [[applied_hash(stamp(obj)) for obj in render(exposed_request()).objects] for _ in range(2)]
    assert hashes[0] == hashes[1]
    assert len(set(hashes[0])) == 5


# --- plan -------------------------------------------------------------------------------------------------


def test_plan_creates_everything_on_an_empty_namespace(exposed_request):
    objects = render(exposed_request()).objects
    result = plan(objects, [])
    assert [(a.op, a.kind, a.name) for a in result.actions] == [
        ("create", "ConfigMap", "octo-dep-d41"),
        ("create", "Deployment", "octo-dep-d41"),
        ("create", "Service", "octo-dep-d41"),
        ("create", "Service", "octo-int-orders"),
        ("create", "Ingress", "octo-dep-d41"),
    ]
    assert result.changed
    assert result.summary() == {"create": 5, "update": 0, "delete": 0, "none": 0}
    action = result.creates[1]
    assert action.api_version == "apps/v1"
    assert action.namespace == "octo-dev"
    assert action.desired == stamp(objects[1])
    assert action.actual is None
    assert action.before is None
    assert action.after == objects[1]  # readable side: no hash annotation
    assert action.ref == "Deployment octo-dev/octo-dep-d41"


def test_plan_is_unchanged_against_what_the_server_returns(exposed_request, server_copy):
    objects = render(exposed_request()).objects
    actual = served(objects, server_copy)
    assert actual[2]["spec"]["clusterIP"]  # server-added fields are really there
    result = plan(objects, reversed(actual))
    assert [a.op for a in result.actions] == ["none"] * 5
    assert not result.changed
    assert result.diffs() == []
    assert result.summary() == {"create": 0, "update": 0, "delete": 0, "none": 5}


def test_plan_updates_what_changed_only(network_request, server_copy):
    actual = served(render(network_request()).objects, server_copy)
    result = plan(render(network_request(replicas=3)).objects, actual)
    assert [(a.op, a.kind) for a in result.actions] == [
        ("none", "ConfigMap"),
        ("update", "Deployment"),
        ("none", "Service"),
        ("none", "Service"),
    ]
    (update,) = result.updates
    assert update.before["spec"]["replicas"] == 1
    assert update.after["spec"]["replicas"] == 3
    # the readable before side has the desired shape: no server fields, no status, no hash
    assert "status" not in update.before
    assert "uid" not in update.before["metadata"]
    assert "revisionHistoryLimit" not in update.before["spec"]
    assert APPLIED_HASH not in update.before["metadata"]["annotations"]
    assert "deployment.kubernetes.io/revision" not in update.before["metadata"]["annotations"]
    (diff,) = result.diffs()
    assert diff["before_header"] == diff["after_header"] == "Deployment octo-dev/octo-dep-d41"
    assert diff["before"]["spec"]["replicas"] == 1
    assert diff["after"]["spec"]["replicas"] == 3


def test_plan_updates_config_map_and_deployment_when_the_yaml_changes(network_request, server_copy):
    actual = served(render(network_request()).objects, server_copy)
    edited = network_request(definition=network_request().definition + "# tweak\n")
    assert [a.op for a in plan(render(edited).objects, actual).actions] == [
        "update",
        "update",
        "none",
        "none",
    ]


def test_plan_repairs_drift_even_with_the_same_hash(network_request, server_copy):
    objects = render(network_request()).objects
    pristine = served(objects, server_copy)

    scaled = copy.deepcopy(pristine)
    scaled[1]["spec"]["replicas"] = 7  # kubectl scale
    assert [a.op for a in plan(objects, scaled).actions] == ["none", "update", "none", "none"]

    relabelled = copy.deepcopy(pristine)
    del relabelled[2]["metadata"]["labels"]["octo.dev/slug"]
    assert [a.op for a in plan(objects, relabelled).actions] == ["none", "none", "update", "none"]

    edited_env = copy.deepcopy(pristine)
    edited_env[1]["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "EXTRA", "value": "1"})
    managed_by(edited_env[1], "octo.platform", EXTRA_ENV_FIELDS)  # ours, no longer rendered: removed
    result = plan(objects, edited_env)
    assert result.updates[0].kind == "Deployment"
    assert result.updates[0].warnings == ()
    before_env = result.updates[0].before["spec"]["template"]["spec"]["containers"][0]["env"]
    assert before_env[-1] == {"name": "EXTRA", "value": "1"}  # the diff shows the intruder

    hand_edited_cm = copy.deepcopy(pristine)
    hand_edited_cm[0]["data"]["orders.yaml"] = "name: hacked\n"
    assert plan(objects, hand_edited_cm).actions[0].op == "update"


def test_plan_updates_objects_without_or_with_a_foreign_hash(network_request, server_copy):
    objects = render(network_request()).objects
    unstamped = [server_copy(obj) for obj in objects]  # created by someone else: same fields, no hash
    assert [a.op for a in plan(objects, unstamped).actions] == ["update"] * 4
    foreign = served(objects, server_copy)
    foreign[0]["metadata"]["annotations"][APPLIED_HASH] = "0" * 64
    assert [a.op for a in plan(objects, foreign).actions] == ["update", "none", "none", "none"]


def test_plan_deletes_unwanted_objects_in_dependency_order(exposed_request, worker_request, server_copy):
    exposed = served(render(exposed_request()).objects, server_copy)
    private = render(exposed_request(expose=False)).objects
    result = plan(private, exposed)
    assert [(a.op, a.kind) for a in result.actions][-1] == ("delete", "Ingress")
    (delete,) = result.deletes
    assert delete.desired is None
    assert delete.after is None
    assert delete.before["spec"]["rules"][0]["host"] == "orders.apps.example.com"
    assert "status" not in delete.before
    assert APPLIED_HASH not in delete.before["metadata"]["annotations"]
    assert result.summary() == {"create": 0, "update": 0, "delete": 1, "none": 4}
    assert plan(private, exposed, delete_unwanted=False).summary()["delete"] == 0

    # everything that is not desired goes, dependents first
    result = plan([], list(exposed))
    assert [(a.kind, a.name) for a in result.actions] == [
        ("Ingress", "octo-dep-d41"),
        ("Service", "octo-dep-d41"),
        ("Service", "octo-int-orders"),
        ("Deployment", "octo-dep-d41"),
        ("ConfigMap", "octo-dep-d41"),
    ]


def test_plan_matches_by_group_not_version(exposed_request, server_copy):
    objects = render(exposed_request()).objects
    actual = served(objects, server_copy)
    actual[4]["apiVersion"] = "networking.k8s.io/v1beta1"
    ops = [(a.op, a.kind) for a in plan(objects, actual).actions]
    assert ops[-1] == ("update", "Ingress")
    assert "delete" not in [op for op, _ in ops]


def test_plan_distinguishes_namespaces_and_kinds(network_request, server_copy):
    objects = render(network_request()).objects
    other_namespace = served(render(network_request(namespace="elsewhere")).objects, server_copy)
    result = plan(objects, other_namespace, delete_unwanted=False)
    assert [a.op for a in result.actions] == ["create"] * 4
    config_map_as_secret = served(objects[:1], server_copy)
    config_map_as_secret[0]["kind"] = "Secret"
    assert [a.op for a in plan(objects[:1], config_map_as_secret).actions] == ["create", "delete"]


def test_secret_values_never_reach_an_action():
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "octo-secrets",
            "namespace": "octo-dev",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"K":"c2VjcmV0"}}'},
        },
        "data": {"API_KEY": "c2VjcmV0"},
        "stringData": {"DSN": "postgres://u:pw@db"},
    }
    (action,) = plan([], [secret]).actions
    assert action.op == "delete"
    assert action.before["data"] == {"API_KEY": "<redacted>"}
    assert action.actual["stringData"] == {"DSN": "<redacted>"}
    for value in ("c2VjcmV0", "pw@db"):
        assert value not in repr(action)
    assert secret["data"] == {"API_KEY": "c2VjcmV0"}  # the caller's object is untouched


# --- ownership: foreign entries, taking fields back, hand-edited keyed entries -------------------------------


def container_of(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]["containers"][0]


def test_foreign_entries_are_left_in_place_with_a_warning(network_request, server_copy):
    objects = render(network_request()).objects
    actual = served(objects, server_copy)
    container_of(actual[1])["env"].insert(0, {"name": "EXTRA", "value": "1"})  # kubectl set env
    managed_by(actual[1], "kubectl-set", EXTRA_ENV_FIELDS)
    actual[1]["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "proxy:1"})
    managed_by(
        actual[1], "kubectl-patch", containers_fields({'k:{"name":"sidecar"}': {".": {}, "f:image": {}}})
    )
    result = plan(objects, actual)
    assert [a.op for a in result.actions] == ["none"] * 4
    assert result.actions[1].warnings == (
        "Deployment octo-dep-d41: env EXTRA of container octo is managed by 'kubectl-set', not octo.platform: "
        "left in place",
        "Deployment octo-dep-d41: container sidecar is managed by 'kubectl-patch', not octo.platform: left in place",
    )
    assert [a.warnings for a in result.actions if a.kind != "Deployment"] == [(), (), ()]
    actual[1]["spec"]["template"]["spec"]["containers"].reverse()  # the sidecar first, as a patch puts it
    (update,) = plan(render(network_request(replicas=2)).objects, actual).updates
    assert [c["name"] for c in update.before["spec"]["template"]["spec"]["containers"]] == ["octo"]
    assert container_of(update.before)["env"] == container_of(update.after)["env"]


def test_foreign_entries_stay_on_an_update_and_unowned_ones_are_not_ours(network_request, server_copy):
    actual = served(render(network_request()).objects, server_copy)
    container_of(actual[1])["env"].append({"name": "EXTRA", "value": "1"})  # no managedFields say who
    result = plan(render(network_request(replicas=2)).objects, actual)
    (update,) = result.updates
    assert update.warnings == (
        "Deployment octo-dep-d41: env EXTRA of container octo is not managed by octo.platform: left in place",
    )
    # it stays, so the diff does not show it (as if it went); only replicas change
    before_env = container_of(update.before)["env"]
    assert [e["name"] for e in before_env] == [e["name"] for e in container_of(update.after)["env"]]
    assert update.before["spec"]["replicas"] == 1 and update.after["spec"]["replicas"] == 2


def test_taking_fields_back_from_another_manager_is_a_warning(network_request, server_copy):
    objects = render(network_request()).objects
    actual = served(objects, server_copy)
    actual[1]["spec"]["replicas"] = 5
    managed_by(actual[1], "kubectl-scale", {"f:spec": {"f:replicas": {}}})
    container = container_of(actual[1])
    container["image"] = "ghcr.io/octo/runtime:9.9"
    log_level = next(e for e in container["env"] if e["name"] == "LOG_LEVEL")
    log_level["value"] = "debug"
    edited = {'k:{"name":"octo"}': {"f:image": {}, "f:env": {'k:{"name":"LOG_LEVEL"}': {"f:value": {}}}}}
    managed_by(actual[1], "kubectl-edit", containers_fields(edited))
    (update,) = plan(objects, actual).updates
    assert update.warnings == (
        "Deployment octo-dep-d41: took back spec.replicas from 'kubectl-scale'",
        "Deployment octo-dep-d41: took back spec.template.spec.containers[octo].image, "
        "spec.template.spec.containers[octo].env[LOG_LEVEL].value from 'kubectl-edit'",
    )


def test_equal_co_owned_values_and_own_managers_are_not_taken_back(network_request, server_copy):
    objects = render(network_request()).objects
    actual = served(objects, server_copy)
    managed_by(actual[1], "kubectl-scale", {"f:spec": {"f:replicas": {}}})  # same value: co-owned
    assert plan(objects, actual).actions[1].op == "none"
    actual[1]["spec"]["replicas"] = 4
    managed_by(actual[1], "octo.platform-secrets", {"f:spec": {"f:replicas": {}}})
    (update,) = plan(objects, actual).updates
    assert update.warnings == ("Deployment octo-dep-d41: took back spec.replicas from 'kubectl-scale'",)
    unowned = served(objects, server_copy)
    unowned[1]["spec"]["replicas"] = 4  # kubectl scale via the scale subresource: 1.20 records no owner
    (update,) = plan(objects, unowned).updates
    assert update.warnings == ("Deployment octo-dep-d41: took back spec.replicas from an unrecorded writer",)
    rescaled = render(network_request(replicas=2)).objects  # our own change: nothing to report
    (update,) = plan(rescaled, unowned).updates
    assert update.warnings == ()


def test_a_hand_edited_port_is_restored_not_left_in_place(network_request, server_copy):
    objects = render(network_request()).objects
    actual = served(objects, server_copy)
    actual[2]["spec"]["ports"][0]["port"] = 9191  # kubectl edit: the key of the entry changed
    port_fields = {".": {}, "f:name": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {}}
    managed_by(
        actual[2], "kubectl-edit", {"f:spec": {"f:ports": {'k:{"port":9191,"protocol":"TCP"}': port_fields}}}
    )
    result = plan(objects, actual)
    assert [a.op for a in result.actions] == ["none", "none", "update", "none"]
    assert result.actions[2].warnings == (
        "Service octo-dep-d41: port 9191/TCP set by 'kubectl-edit' replaces the rendered port 9090/TCP: "
        "restoring it",
    )


def test_a_port_number_changed_by_the_definition_is_silent(network_request, server_copy):
    actual = served(render(network_request()).objects, server_copy)
    port_fields = {".": {}, "f:name": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {}}
    ours = {"f:spec": {"f:ports": {'k:{"port":9090,"protocol":"TCP"}': port_fields}}}
    for service in actual[2:]:
        managed_by(service, "octo.platform", ours, operation="Apply")
    container_port = {'k:{"containerPort":9090,"protocol":"TCP"}': {".": {}, "f:name": {}}}
    ours = containers_fields({'k:{"name":"octo"}': {".": {}, "f:ports": container_port}})
    managed_by(actual[1], "octo.platform", ours, operation="Apply")
    definition = network_request().definition.replace('default: "9090"', 'default: "9191"')
    result = plan(render(network_request(definition=definition)).objects, actual)
    assert [a.op for a in result.actions] == ["update"] * 4
    assert [a.warnings for a in result.actions] == [()] * 4


def test_warnings_are_the_last_field_of_an_action(network_request):
    assert [f.name for f in dataclasses.fields(Action)][-1] == "warnings"
    assert all(a.warnings == () for a in plan(render(network_request()).objects, []).actions)
