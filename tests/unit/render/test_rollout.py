"""Rollout evaluation from Deployment, ReplicaSet and pod documents."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render import rollout


def deployment(desired=2, generation=2, observed=2, revision="2", **status):
    return {
        "metadata": {
            "name": "octo-dep-a",
            "uid": "dep-uid",
            "generation": generation,
            "annotations": {rollout.REVISION: revision},
        },
        "spec": {"replicas": desired},
        "status": {"observedGeneration": observed, **status},
    }


def replica_set(uid, revision):
    return {
        "metadata": {
            "uid": uid,
            "annotations": {rollout.REVISION: revision},
            "ownerReferences": [{"uid": "dep-uid"}],
        }
    }


def pod(name, rs_uid, waiting=None, conditions=(), restarts=None):
    if restarts is None:
        restarts = 2 if waiting == "CrashLoopBackOff" else 0
    statuses = [
        {
            "name": "octo",
            "restartCount": restarts,
            "state": {"waiting": {"reason": waiting, "message": "boom"}} if waiting else {},
        }
    ]
    return {
        "metadata": {"name": name, "uid": f"uid-{name}", "ownerReferences": [{"uid": rs_uid}]},
        "status": {"containerStatuses": statuses, "conditions": list(conditions)},
    }


COMPLETE = {"replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}


def test_complete():
    status = rollout.evaluate(deployment(**COMPLETE), [], [])
    assert status.state == "complete" and status.done
    assert status.message == "2 of 2 replicas available"


@pytest.mark.parametrize(
    ("dep", "message"),
    [
        (deployment(generation=3, observed=2, **COMPLETE), "waiting for the controller"),
        (deployment(desired=3, **COMPLETE), "2 of 3 new replicas updated"),
        (deployment(**{**COMPLETE, "replicas": 3}), "1 old replicas pending termination"),
        (deployment(**{**COMPLETE, "availableReplicas": 1}), "1 of 2 updated replicas available"),
    ],
)
def test_progressing(dep, message):
    status = rollout.evaluate(dep, [], [])
    assert status.state == "progressing" and not status.done
    assert message in status.message


def test_progress_deadline_exceeded_fails():
    conditions = [{"type": "Progressing", "reason": "ProgressDeadlineExceeded", "message": "took too long"}]
    status = rollout.evaluate(deployment(conditions=conditions), [], [])
    assert (status.state, status.reason, status.message) == (
        "failed",
        "ProgressDeadlineExceeded",
        "took too long",
    )


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "CrashLoopBackOff", "InvalidImageName"])
def test_fatal_pod_state_of_the_current_revision_fails(reason):
    sets = [replica_set("rs-old", "1"), replica_set("rs-new", "2")]
    status = rollout.evaluate(deployment(updatedReplicas=1), sets, [pod("p1", "rs-new", waiting=reason)])
    assert (status.state, status.reason, status.pod) == ("failed", reason, "p1")


def test_failures_of_old_revisions_are_ignored():
    sets = [replica_set("rs-old", "1"), replica_set("rs-new", "2")]
    status = rollout.evaluate(
        deployment(updatedReplicas=1), sets, [pod("p0", "rs-old", waiting="CrashLoopBackOff")]
    )
    assert status.state == "progressing"


def test_a_container_that_crashed_once_may_still_recover():
    sets = [replica_set("rs-new", "2")]
    once = [pod("p1", "rs-new", waiting="CrashLoopBackOff", restarts=1)]
    assert rollout.evaluate(deployment(updatedReplicas=1), sets, once).state == "progressing"
    again = [pod("p1", "rs-new", waiting="CrashLoopBackOff", restarts=2)]
    assert rollout.evaluate(deployment(updatedReplicas=1), sets, again).reason == "CrashLoopBackOff"


def test_a_kubelet_cache_not_synced_yet_is_no_configuration_error():
    sets = [replica_set("rs-new", "2")]
    waiting = pod("p1", "rs-new", waiting="CreateContainerConfigError")
    message = "failed to sync secret cache: timed out waiting for the condition"
    waiting["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = message
    assert rollout.evaluate(deployment(updatedReplicas=1), sets, [waiting]).state == "progressing"
    message = "couldn't find key API_KEY in Secret t/octo-secrets"
    waiting["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = message
    assert (
        rollout.evaluate(deployment(updatedReplicas=1), sets, [waiting]).reason
        == "CreateContainerConfigError"
    )


def test_transient_pull_error_keeps_waiting():
    sets = [replica_set("rs-new", "2")]
    status = rollout.evaluate(
        deployment(updatedReplicas=1), sets, [pod("p1", "rs-new", waiting="ErrImagePull")]
    )
    assert status.state == "progressing"


def test_unschedulable_fails():
    unschedulable = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": "0/1 nodes",
    }
    sets = [replica_set("rs-new", "2")]
    status = rollout.evaluate(deployment(), sets, [pod("p1", "rs-new", conditions=[unschedulable])])
    assert (status.state, status.reason, status.message) == ("failed", "Unschedulable", "0/1 nodes")


def test_missing_deployment_fails():
    assert rollout.evaluate(None, [], []).reason == "NotFound"


def test_timed_out_keeps_counts():
    status = rollout.timed_out(rollout.evaluate(deployment(desired=3, **COMPLETE), [], []), 30)
    assert (status.state, status.reason, status.ready) == ("failed", "Timeout", 2)
    assert status.message.startswith(
        f"timed out after 30s with {status.ready} of {status.desired} pods ready: "
    )


def test_related_events_only_about_own_objects():
    dep = deployment(**COMPLETE)
    sets = [replica_set("rs-new", "2")]
    pods = [pod("p1", "rs-new")]
    events = [
        {
            "metadata": {"uid": "e2"},
            "involvedObject": {"uid": "uid-p1", "kind": "Pod", "name": "p1"},
            "lastTimestamp": "2026-01-01T00:00:02Z",
        },
        {
            "metadata": {"uid": "e1"},
            "involvedObject": {"uid": "rs-new", "kind": "ReplicaSet", "name": "rs"},
            "lastTimestamp": "2026-01-01T00:00:01Z",
        },
        {
            "metadata": {"uid": "e3"},
            "involvedObject": {"uid": "someone-else", "kind": "Pod", "name": "x"},
            "lastTimestamp": "2026-01-01T00:00:00Z",
        },
    ]
    related = rollout.related_events(events, dep, sets, pods)
    assert [e["metadata"]["uid"] for e in related] == ["e1", "e2"]
    assert rollout.summarize_event(related[1])["object"] == "pod/p1"


def test_slim_objects_evaluate_as_the_full_ones():
    """A follower keeps slimmed pods and ReplicaSets (no spec, no managedFields): same verdict, less kept."""
    managed = [{"manager": "kube-controller-manager", "fieldsV1": {"f:status": {}}}]
    full_rs = {**replica_set("rs-new", "2"), "kind": "ReplicaSet", "spec": {"template": {"spec": {}}}}
    full_pod = {**pod("p1", "rs-new", waiting="ImagePullBackOff"), "kind": "Pod", "spec": {"containers": []}}
    full_dep = {**deployment(updatedReplicas=1), "kind": "Deployment"}
    for obj in (full_rs, full_pod, full_dep):
        obj["metadata"] = {**obj["metadata"], "managedFields": managed}
    slim = [rollout.slim(obj) for obj in (full_rs, full_pod, full_dep)]
    assert [("spec" in obj, "managedFields" in obj["metadata"]) for obj in slim] == [
        (False, False),
        (False, False),
        (True, False),
    ]
    assert rollout.evaluate(slim[2], [slim[0]], [slim[1]]) == rollout.evaluate(
        full_dep, [full_rs], [full_pod]
    )
    assert rollout.evaluate(slim[2], [slim[0]], [slim[1]]).reason == "ImagePullBackOff"
    assert "managedFields" in full_pod["metadata"]  # the listed object itself is left alone
