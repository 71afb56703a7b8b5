"""strip_server_fields, is_subset, differences (keyed lists by merge key), rekeyed entries, repair_patch, project."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render.normalize import (
    differences,
    is_subset,
    project,
    rekeyed,
    repair_patch,
    strip_server_fields,
)


def test_strip_server_fields_drops_bookkeeping_only():
    served = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "octo-dep-d41",
            "namespace": "octo-dev",
            "uid": "u",
            "resourceVersion": "1",
            "generation": 2,
            "creationTimestamp": "t",
            "managedFields": [],
            "selfLink": "/apis/...",
            "deletionGracePeriodSeconds": 30,
            "labels": {"a": "b"},
            "annotations": {
                "deployment.kubernetes.io/revision": "3",
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "octo.dev/integration": "Orders",
            },
        },
        "spec": {"replicas": 1},
        "status": {"replicas": 1},
    }
    stripped = strip_server_fields(served)
    assert stripped == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "octo-dep-d41",
            "namespace": "octo-dev",
            "labels": {"a": "b"},
            "annotations": {"octo.dev/integration": "Orders"},
        },
        "spec": {"replicas": 1},
    }
    assert "status" in served  # the input is not modified
    assert served["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"


def test_strip_server_fields_removes_emptied_annotations():
    served = {"metadata": {"name": "x", "annotations": {"deployment.kubernetes.io/revision": "1"}}}
    assert strip_server_fields(served) == {"metadata": {"name": "x"}}


@pytest.mark.parametrize(
    ("desired", "actual"),
    [
        ({"a": 1}, {"a": 1, "b": 2}),
        ({"spec": {"ports": [{"port": 80}]}}, {"spec": {"ports": [{"port": 80, "nodePort": 0}]}}),
        ({"targetPort": 8080}, {"targetPort": "8080"}),
        ({"targetPort": "8080"}, {"targetPort": 8080}),
        ({"a": None}, {}),
        ({"a": None}, {"a": "anything"}),
        ({"a": ""}, {}),
        ({"a": []}, {}),
        ({"a": {}}, {"a": None}),
        ({"a": {}}, {"a": {"server": "added"}}),
        ({"flag": True}, {"flag": True}),
        ({"count": 0}, {"count": 0}),
    ],
)
def test_is_subset_true(desired, actual):
    assert is_subset(desired, actual)


@pytest.mark.parametrize(
    ("desired", "actual"),
    [
        ({"a": 1}, {"a": 2}),
        ({"a": 1}, {}),
        ({"a": "x"}, {"a": None}),
        ({"list": [1, 2]}, {"list": [1, 2, 3]}),
        ({"list": [1, 2]}, {"list": [2, 1]}),
        ({"list": [1]}, {"list": "1"}),
        ({"a": {"b": 1}}, {"a": "b"}),
        ({"flag": True}, {"flag": 1}),
        ({"flag": True}, {"flag": "True"}),
        ({"count": 0}, {}),
        ({"port": 80}, {"port": "http"}),
        ({"a": [{"b": 1}]}, {"a": [{"b": 2}]}),
    ],
)
def test_is_subset_false(desired, actual):
    assert not is_subset(desired, actual)


def test_project_keeps_only_the_shape():
    actual = {
        "metadata": {"name": "x", "uid": "u", "labels": {"a": "1", "z": "9"}},
        "spec": {"ports": [{"port": 80, "nodePort": 3}, {"port": 81}], "clusterIP": "10.0.0.1"},
    }
    shape = {"metadata": {"name": "x", "labels": {"a": "2", "b": "3"}}, "spec": {"ports": [{"port": 80}]}}
    assert project(actual, shape) == {
        "metadata": {"name": "x", "labels": {"a": "1"}},
        "spec": {"ports": [{"port": 80}, {"port": 81}]},  # extra actual elements stay visible
    }
    rules = {"spec": {"rules": [{"host": "a", "x": 1}, {"host": "b", "x": 2}]}}
    assert project(rules, {"spec": {"rules": [{"host": "z"}]}}) == {  # atomic: by position
        "spec": {"rules": [{"host": "a"}, {"host": "b", "x": 2}]}
    }


def test_project_returns_actual_where_types_differ():
    assert project({"a": "text"}, {"a": {"b": 1}}) == {"a": "text"}
    assert project([1, 2], {"x": 1}) == [1, 2]


# --- keyed lists ----------------------------------------------------------------------------------------

CONTAINER = {
    "name": "octo",
    "image": "runtime:1",
    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
    "volumeMounts": [{"name": "definition", "mountPath": "/etc/octo"}],
}
POD = {"spec": {"template": {"spec": {"containers": [CONTAINER]}}}}
SERVICE = {"spec": {"ports": [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]}}
OCTO = ("k", (("name", "octo"),))
CONTAINERS = (("f", "spec"), ("f", "template"), ("f", "spec"), ("f", "containers"))


def pod_with(**container) -> dict:
    return {"spec": {"template": {"spec": {"containers": [{**CONTAINER, **container}]}}}}


def test_keyed_lists_compare_by_merge_key_not_position():
    reordered = pod_with(env=[{"name": "B", "value": "2"}, {"name": "A", "value": "1"}])
    assert is_subset(POD, reordered)
    with_foreign = pod_with(env=[{"name": "X", "value": "9"}, *CONTAINER["env"]])
    assert is_subset(POD, with_foreign)  # an extra entry is not a missing field
    sidecar = {"name": "sidecar", "image": "proxy:1"}
    assert is_subset(POD, {"spec": {"template": {"spec": {"containers": [sidecar, CONTAINER]}}}})
    assert not is_subset(POD, pod_with(env=[{"name": "A", "value": "1"}]))
    assert not is_subset(POD, pod_with(env=[{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]))
    # a port without protocol is TCP, as the server defaults it
    service = {"spec": {"ports": [{"port": 80}]}}
    assert is_subset(service, {"spec": {"ports": [{"port": 81}, {"port": 80, "protocol": "TCP"}]}})
    assert not is_subset(service, {"spec": {"ports": [{"port": 80, "protocol": "UDP"}]}})


def test_atomic_lists_still_compare_by_position():
    assert not is_subset({"spec": {"args": ["a", "b"]}}, {"spec": {"args": ["b", "a"]}})
    assert not is_subset(
        {"spec": {"rules": [{"host": "a"}]}}, {"spec": {"rules": [{"host": "a"}, {"host": "b"}]}}
    )


def test_differences_name_paths_and_pointers():
    actual = pod_with(
        image="runtime:2",
        env=[{"name": "X", "value": "9"}, {"name": "B", "value": "2"}],
    )
    found = {(d.kind, d.path): d for d in differences(POD, actual)}
    image = (*CONTAINERS, OCTO, ("f", "image"))
    env = (*CONTAINERS, OCTO, ("f", "env"))
    extra = (*env, ("k", (("name", "X"),)))
    assert set(found) == {("differs", image), ("unmatched", env), ("extra", extra)}
    assert found[("differs", image)].pointer == ("spec", "template", "spec", "containers", 0, "image")
    assert found[("differs", image)].actual == "runtime:2"
    assert found[("extra", extra)].pointer == ("spec", "template", "spec", "containers", 0, "env", 0)
    assert found[("extra", extra)].actual == {"name": "X", "value": "9"}
    assert differences({"a": {"b": 1}}, {"a": {}})[0].kind == "missing"


def test_service_ports_are_keyed_by_port_and_protocol():
    udp = {"spec": {"ports": [{**SERVICE["spec"]["ports"][0], "protocol": "UDP"}]}}
    kinds = sorted(d.kind for d in differences(SERVICE, udp))
    assert kinds == ["extra", "unmatched"]


def edited_service(port: int = 9090, name: str = "http") -> dict:
    return {
        "metadata": {"resourceVersion": "345"},
        "spec": {
            "ports": [
                {"name": "metrics", "port": 9100, "targetPort": 9100, "protocol": "TCP"},
                {"name": name, "port": port, "targetPort": "http", "protocol": "TCP"},
            ]
        },
    }


def test_rekeyed_finds_the_entry_that_took_a_rendered_name():
    [(extra, entry)] = rekeyed(differences(SERVICE, edited_service()))
    assert extra.actual["port"] == 9090
    assert extra.pointer == ("spec", "ports", 1)
    assert entry.desired == SERVICE["spec"]["ports"][0]
    assert entry.path == (("f", "spec"), ("f", "ports"), ("k", (("port", 8080), ("protocol", "TCP"))))
    assert rekeyed(differences(SERVICE, edited_service(name="web"))) == []  # no clash: just an extra port
    assert rekeyed(differences(POD, pod_with(env=[{"name": "A", "value": "0"}]))) == []


def test_repair_patch_replaces_only_the_clashing_entry():
    assert repair_patch(SERVICE, edited_service()) == [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "345"},
        {"op": "replace", "path": "/spec/ports/1", "value": SERVICE["spec"]["ports"][0]},
    ]
    container_port = pod_with(ports=[{"name": "http", "containerPort": 9090, "protocol": "TCP"}])
    [_, replace] = repair_patch(POD, container_port)
    assert replace["path"] == "/spec/template/spec/containers/0/ports/0"
    assert repair_patch(SERVICE, edited_service(name="web")) == []
    assert repair_patch(SERVICE, {"spec": SERVICE["spec"]}) == []


def test_project_matches_keyed_entries_by_key():
    actual = pod_with(env=[{"name": "X", "value": "9"}, {"name": "B", "value": "2", "valueFrom": None}])
    actual["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/termination-log"
    projected = project(actual, POD)["spec"]["template"]["spec"]["containers"][0]
    assert "terminationMessagePath" not in projected
    assert projected["env"] == [{"name": "X", "value": "9"}, {"name": "B", "value": "2"}]
