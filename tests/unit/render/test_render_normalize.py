"""strip_server_fields, is_subset and project."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render.normalize import (
    is_subset,
    project,
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
    shape = {"metadata": {"name": "x", "labels": {"a": "2", "b": "3"}}, "spec": {"ports": [{"port": 1}]}}
    assert project(actual, shape) == {
        "metadata": {"name": "x", "labels": {"a": "1"}},
        "spec": {"ports": [{"port": 80}, {"port": 81}]},  # extra actual elements stay visible
    }


def test_project_returns_actual_where_types_differ():
    assert project({"a": "text"}, {"a": {"b": 1}}) == {"a": "text"}
    assert project([1, 2], {"x": 1}) == [1, 2]
