"""Revisions, pure: content hash (replicas aside), the stored ConfigMap round trip, picking, pruning, drift paths."""

from __future__ import annotations

import json

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import revisions as rev
from ansible_collections.octo.platform.plugins.module_utils.render.integration import render


def revision(request, number: int, result: str = rev.ROLLED_OUT) -> rev.Revision:
    return rev.Revision(
        deployment_id=request.deployment_id,
        number=number,
        time="2026-11-27T22:00:00Z",
        actor="alice",
        content_hash=rev.content_hash(render(request)),
        result=result,
        source="apply",
        replicas=request.replicas,
        inputs=rev.inputs_of(request),
        definition=request.definition,
    )


def test_the_hash_ignores_replicas_and_follows_what_runs(network_request, exposed_request):
    base = rev.content_hash(render(network_request()))
    assert rev.content_hash(render(network_request(replicas=5))) == base
    assert rev.content_hash(render(network_request(image="ghcr.io/octo/runtime:0.2"))) != base
    assert rev.content_hash(render(network_request(bindings={"API_KEY": {"secret": "OTHER_KEY"}}))) != base
    assert rev.content_hash(render(exposed_request())) != base


def test_a_stored_revision_reproduces_the_same_objects(exposed_request):
    request = exposed_request(
        replicas=3, resources={"limits": {"memory": "256Mi"}}, probes={"path": "/health"}
    )
    stored = rev.config_map(revision(request, 4), "octo-dev", request.slug)
    assert stored["metadata"]["name"] == "octo-rev-d41-4"
    labels = stored["metadata"]["labels"]
    assert "app.kubernetes.io/managed-by" not in labels and "octo.dev/deployment" not in labels
    assert labels[rev.LABEL_REVISION_OF] == "d41" and labels[rev.LABEL_RESULT] == rev.ROLLED_OUT

    parsed = rev.parse(json.loads(json.dumps(stored)))
    again = render(rev.request_of(parsed, "octo-dev", "d41", 3))
    assert again.objects == render(request).objects
    assert rev.content_hash(again) == parsed.content_hash


def test_secret_bindings_are_kept_as_references(network_request):
    stored = rev.config_map(revision(network_request(), 1), "octo-dev", "orders")
    assert "secret: ORDERS_API_KEY" in stored["data"]["inputs.yaml"]


def test_pick_by_number_previous_latest_and_default(network_request):
    one = revision(network_request(), 1)
    two = revision(network_request(image="i:2"), 2)
    three = revision(network_request(image="i:3"), 3, rev.FAILED)
    history = [one, two, three]
    assert rev.pick(history, "1", "d41", "rollback_to") is one
    assert rev.pick(history, "previous", "d41", "rollback_to") is two
    assert rev.pick(history, "latest", "d41", "promote_from.revision") is three
    assert rev.pick(history, None, "d41", "promote_from.revision") is two
    with pytest.raises(ValidationError, match=r"rollback_to: revision 7 not found; recorded: 1, 2, 3"):
        rev.pick(history, "7", "d41", "rollback_to")
    with pytest.raises(ValidationError, match="no recorded revision"):
        rev.pick([], "previous", "d41", "rollback_to")


def test_needs_revision_prune_and_last_good(network_request):
    history = [revision(network_request(image=f"i:{n}"), n) for n in range(1, 13)]
    assert not rev.needs_revision(history, history[-1].content_hash)
    assert rev.needs_revision(history, history[0].content_hash) and rev.needs_revision([], "x")
    assert [r.number for r in rev.pruned(history, 10)] == [1, 2]
    assert rev.last_good(history, history[-1].content_hash) is history[-2]


def test_changed_fields_names_dotted_paths():
    before = {"spec": {"replicas": 2, "template": {"containers": [{"image": "a", "name": "octo"}]}}}
    after = {"spec": {"replicas": 2, "template": {"containers": [{"image": "b", "name": "octo"}]}}}
    assert rev.changed_fields(before, after) == ["spec.template.containers[0].image"]
    assert rev.changed_fields({"a": [1]}, {"a": [1, 2]}) == ["a"]
    assert rev.changed_fields(before, before) == []
