"""Pure side of the manifests module: parsing, validation, owner labels, Secret planning and masking, readiness."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import manifests as mf

OWN_FIELDS = [{"manager": "octo.platform", "operation": "Apply", "fieldsV1": {"f:data": {"f:OLD": {}}}}]


def scope(api_version, kind):
    return {"Namespace": False, "ConfigMap": True, "Secret": True, "ClusterIssuer": False}.get(kind)


def cm(name, **meta):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}, "data": {"A": "1"}}


def test_parse_accepts_lists_yaml_texts_and_flattens_list_kinds():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\nkind: List\napiVersion: v1\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"
    parsed = mf.parse_definitions([cm("x"), text, None])
    assert [o["metadata"]["name"] for o in parsed] == ["x", "a", "b"]
    assert [o["metadata"]["name"] for o in mf.parse_definitions(text)] == ["a", "b"]


@pytest.mark.parametrize(
    ("definitions", "message"),
    [
        ("[: bad", "definitions[0]: is not valid YAML"),
        ("- 1\n", "not a mapping"),
        ([42], "definitions[0]: must be a mapping or YAML text"),
    ],
)
def test_parse_rejects_what_is_not_manifests(definitions, message):
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        mf.parse_definitions(definitions)


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"kind": "ConfigMap", "metadata": {"name": "a"}}, "apiVersion"),
        ({"apiVersion": "v1", "metadata": {"name": "a"}}, "kind"),
        ({"apiVersion": "v1", "kind": "ConfigMap"}, "metadata.name"),
    ],
)
def test_identity_is_required(obj, field):
    with pytest.raises(ValidationError, match=f"has no {field}"):
        mf.check_identity([obj])


@pytest.mark.parametrize("owner", ["", "Upper", "a_b", "-a", "x" * 64])
def test_owner_must_be_a_label_value(owner):
    with pytest.raises(ValidationError, match="owner"):
        mf.check_owner(owner)


def test_desired_labels_namespaces_and_orders():
    objs = [cm("a"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "namespace": "x"}}]
    desired = mf.desired_objects(objs, "platform", "octo", scope)
    assert [o["kind"] for o in desired] == ["Namespace", "ConfigMap"]  # namespaces first
    assert "namespace" not in desired[0]["metadata"]
    assert desired[1]["metadata"]["namespace"] == "octo"
    assert desired[1]["metadata"]["labels"] == {
        "octo.platform/owner": "platform",
        "app.kubernetes.io/managed-by": "octo.platform",
    }
    assert "labels" not in objs[0]["metadata"]  # inputs untouched
    assert mf.namespaces_of(desired, "default") == ["default", "octo"]


def test_duplicates_and_unknown_kinds_fail():
    with pytest.raises(ValidationError, match="ConfigMap octo/a is defined more than once"):
        mf.desired_objects([cm("a"), cm("a", namespace="octo")], "p", "octo", scope)
    widget = {"apiVersion": "x/v1", "kind": "Widget", "metadata": {"name": "w"}}
    with pytest.raises(OctoError, match="Failed to apply Widget octo/w: the server has no such kind"):
        mf.desired_objects([widget], "p", "octo", scope)


def test_prune_kinds_are_parsed():
    refs = mf.kind_refs([cm("a")], ["networking.k8s.io/v1/NetworkPolicy", "v1/Secret"])
    assert [(r.api_version, r.kind) for r in refs] == [
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
    ]
    with pytest.raises(ValidationError, match="prune_kinds"):
        mf.kind_refs([], ["NetworkPolicy"])


def secret(**data):
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "octo"},
        "stringData": data,
    }
    return mf.desired_objects([obj], "p", "octo", scope)[0]


def stored(desired, extra=None, managed=None):
    data = {**desired["data"], **(extra or {})}
    return {**desired, "data": data, "metadata": {**desired["metadata"], "managedFields": managed or []}}


def test_secret_string_data_folds_into_data():
    desired = secret(TOKEN="v")
    assert "stringData" not in desired and base64.b64decode(desired["data"]["TOKEN"]) == b"v"


def test_secret_plan_compares_values_without_hashing_them():
    desired = secret(TOKEN="v")
    same = mf.plan_manifests([desired], [stored(desired)], prune=True)
    assert [a.op for a in same.actions] == ["none"]
    assert "octo.dev/applied-hash" not in str(desired)
    changed = mf.plan_manifests([secret(TOKEN="w")], [stored(desired)], prune=True)
    assert [a.op for a in changed.actions] == ["update"]
    assert changed.actions[0].after["data"] == {"TOKEN": "(hidden)"}
    assert changed.actions[0].before["data"] == {"TOKEN": "(hidden)"}


def test_secret_key_of_another_writer_stays_unchanged_ours_gone_updates():
    desired = secret(TOKEN="v")
    theirs = stored(desired, {"OLD": "eA=="})
    assert mf.plan_manifests([desired], [theirs], prune=True).actions[0].op == "none"
    ours = stored(desired, {"OLD": "eA=="}, OWN_FIELDS)
    assert mf.plan_manifests([desired], [ours], prune=True).actions[0].op == "update"


def test_plan_prunes_leftovers_but_never_a_namespace_and_only_with_prune():
    desired = mf.desired_objects([cm("a")], "p", "octo", scope)
    leftovers = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "octo"}},
    ]
    pruned = mf.plan_manifests(desired, leftovers, prune=True)
    assert [(a.op, a.kind) for a in pruned.actions] == [("create", "ConfigMap"), ("delete", "ConfigMap")]
    assert [a.op for a in mf.plan_manifests(desired, leftovers, prune=False).actions] == ["create"]
    rows = mf.object_results(pruned)
    assert [(r["kind"], r["name"], r["action"]) for r in rows] == [
        ("ConfigMap", "a", "created"),
        ("ConfigMap", "b", "deleted"),
    ]
    # state: absent removes everything of the owner, Namespaces last
    assert [(a.op, a.kind) for a in mf.deletions(leftovers)] == [
        ("delete", "ConfigMap"),
        ("delete", "Namespace"),
    ]


def test_masked_definitions_hide_secret_values_only():
    shown = mf.masked_definitions(
        [cm("a"), {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"K": "v"}}]
    )
    assert shown[0]["data"] == {"A": "1"} and shown[1]["stringData"] == {"K": "(hidden)"}
    assert mf.masked_definitions("[: bad") == "(hidden)"


def condition(kind, status, reason="", message=""):
    return {
        "status": {"conditions": [{"type": kind, "status": status, "reason": reason, "message": message}]}
    }


def test_condition_readiness():
    assert mf.condition_readiness(condition("Ready", "True"), "Ready", "True").done
    pending = mf.condition_readiness(condition("Ready", "False", "Pending", "waiting"), "Ready", "True")
    assert not pending.done and pending.message == "Ready is False (Pending: waiting)"
    assert mf.condition_readiness({}, "Ready", "True").message == "has no Ready condition yet"
    assert mf.condition_readiness(None, "Ready", "True").message == "does not exist"


def test_rollout_readiness():
    deployment = {"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2}}
    rolling = {
        **deployment,
        "status": {"observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 1},
    }
    assert not mf.rollout_readiness(rolling).done
    done = {**deployment, "status": {"observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 2}}
    assert mf.rollout_readiness(done).done
    stale = {**done, "status": {**done["status"], "observedGeneration": 1}}
    assert not mf.rollout_readiness(stale).done
    failed_job = {"kind": "Job", **condition("Failed", "True", message="BackoffLimitExceeded")}
    assert mf.rollout_readiness(failed_job).failed
    assert mf.rollout_readiness({"kind": "Job", **condition("Complete", "True")}).done
    daemons = {
        "kind": "DaemonSet",
        "metadata": {},
        "status": {"desiredNumberScheduled": 1, "updatedNumberScheduled": 1, "numberAvailable": 1},
    }
    assert mf.rollout_readiness(daemons).done
