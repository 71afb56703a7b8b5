"""stamp and plan: create, none despite server-added fields, update on change or drift, delete of the unwanted."""

from __future__ import annotations

import copy

from ansible_collections.octo.platform.plugins.module_utils.render.integration import render
from ansible_collections.octo.platform.plugins.module_utils.render.plan import APPLIED_HASH, plan, stamp

CONFIG_MAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "cm", "namespace": "ns", "labels": {"a": "1"}},
    "data": {"k": "v"},
}


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
    result = plan(objects, edited_env)
    assert result.updates[0].kind == "Deployment"
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
