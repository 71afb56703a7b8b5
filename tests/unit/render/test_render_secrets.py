"""Pure rules of the integration secrets: catalog entries, which deployments roll, roll patches, diffs."""

from __future__ import annotations

import json

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render import secrets

UID = "0f1e2d3c"
CREATED = "2026-11-27T10:00:00Z"


def deployment(keys, rolled_for=None, created=CREATED, revision="1"):
    env = [
        {"name": f"ENV_{key}", "valueFrom": {"secretKeyRef": {"name": "octo-secrets", "key": key}}}
        for key in keys
    ]
    annotations = {secrets.ROLLED_FOR: json.dumps(rolled_for)} if rolled_for is not None else {}
    return {
        "metadata": {
            "name": "octo-dep-d1",
            "uid": UID,
            "creationTimestamp": created,
            "annotations": {secrets.REVISION: revision},
        },
        "spec": {
            "template": {
                "metadata": {"annotations": annotations},
                "spec": {"containers": [{"name": "octo", "env": [*env, {"name": "PLAIN", "value": "x"}]}]},
            }
        },
    }


def replicaset(created, revision="1", owner=UID):
    return {
        "metadata": {
            "creationTimestamp": created,
            "annotations": {secrets.REVISION: revision},
            "ownerReferences": [{"kind": "Deployment", "uid": owner}],
        }
    }


def entry(updated, write="w-new"):
    return {"created": CREATED, "updated": updated, "by": "ops@ctl", **({"write": write} if write else {})}


def test_catalog_entry_keeps_created_and_identifies_the_write():
    first = secrets.catalog_entry(None, "2026-11-27T10:00:00Z", "ops@ctl", "aa")
    second = secrets.catalog_entry(first, "2026-11-27T10:00:00Z", "ci@runner", "bb")
    assert second == {
        "created": first["created"],
        "updated": first["updated"],
        "by": "ci@runner",
        "write": "bb",
    }
    assert secrets.write_identity(first) != secrets.write_identity(second)


def test_entries_from_before_write_ids_are_identified_by_their_time():
    old = {"created": CREATED, "updated": "2026-11-27T11:00:00Z", "by": "ops@ctl"}
    secret = {
        "metadata": {"annotations": {"catalog.octo.dev/KEY_A": json.dumps(old)}},
        "data": {"KEY_A": "eA=="},
    }
    assert secrets.read_catalog(secret) == {"KEY_A": old}
    assert secrets.write_identity(old) == "2026-11-27T11:00:00Z"
    assert secrets.write_identity({}) is None


@pytest.mark.parametrize(
    ("dep", "replicasets", "catalog", "written", "rolls"),
    [
        # written in this run: every reader rolls
        (deployment(["KEY_A"], {"KEY_A": "w-new"}), [], {"KEY_A": entry(CREATED)}, ["KEY_A"], True),
        # rolled for the last write already
        (deployment(["KEY_A"], {"KEY_A": "w-new"}), [], {"KEY_A": entry("2026-11-27T12:00:00Z")}, [], False),
        # rolled for an older write, pods from before the last write: the missed roll
        (deployment(["KEY_A"], {"KEY_A": "w-old"}), [], {"KEY_A": entry("2026-11-27T12:00:00Z")}, [], True),
        # never rolled, created before the write
        (deployment(["KEY_A"]), [], {"KEY_A": entry("2026-11-27T12:00:00Z")}, [], True),
        # never rolled, created after the write: its pods read the current value
        (
            deployment(["KEY_A"], created="2026-11-27T12:00:01Z"),
            [],
            {"KEY_A": entry("2026-11-27T12:00:00Z")},
            [],
            False,
        ),
        # created in the same second as the write: cannot tell which came first, so roll
        (
            deployment(["KEY_A"], created="2026-11-27T12:00:00Z"),
            [],
            {"KEY_A": entry("2026-11-27T12:00:00Z")},
            [],
            True,
        ),
        # template changed after the write (ReplicaSet of the current revision is newer)
        (
            deployment(["KEY_A"], revision="2"),
            [replicaset(CREATED, "1"), replicaset("2026-11-27T12:00:05Z", "2")],
            {"KEY_A": entry("2026-11-27T12:00:00Z")},
            [],
            False,
        ),
        # a newer ReplicaSet of an older revision, or of another owner, proves nothing
        (
            deployment(["KEY_A"], revision="2"),
            [replicaset("2026-11-27T12:00:05Z", "1"), replicaset("2026-11-27T12:00:05Z", "2", owner="other")],
            {"KEY_A": entry("2026-11-27T12:00:00Z")},
            [],
            True,
        ),
        # an entry from before write ids, pods from before its write: compared by time
        (deployment(["KEY_A"]), [], {"KEY_A": entry("2026-11-27T12:00:00Z", write=None)}, [], True),
        # a key set by other tools (no catalog entry): nothing to compare with
        (deployment(["KEY_A"]), [], {}, [], False),
        # the deployment does not read the keys of the call
        (deployment(["KEY_B"]), [], {"KEY_B": entry("2026-11-27T12:00:00Z")}, [], False),
    ],
)
def test_needs_roll(dep, replicasets, catalog, written, rolls):
    assert secrets.needs_roll(dep, replicasets, catalog, ["KEY_A"], written) is rolls


def test_unreadable_times_and_annotations_mean_roll():
    dep = deployment(["KEY_A"], created="not a time")
    dep["spec"]["template"]["metadata"]["annotations"][secrets.ROLLED_FOR] = "{not json"
    assert secrets.needs_roll(dep, [], {"KEY_A": entry("2026-11-27")}, ["KEY_A"], []) is True


def test_roll_patch_records_every_bound_key_and_drops_the_old_annotation():
    dep = deployment(["KEY_B", "KEY_A", "OTHER"])
    catalog = {"KEY_A": entry(CREATED, "a1"), "KEY_B": entry(CREATED, write=None)}
    annotations = secrets.roll_patch(dep, catalog)["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {
        secrets.ROLLED_FOR: '{"KEY_A":"a1","KEY_B":"' + CREATED + '"}',
        secrets.ROTATED_AT: None,
    }
    rolled = deployment(["KEY_B", "KEY_A", "OTHER"], json.loads(annotations[secrets.ROLLED_FOR]))
    assert secrets.needs_roll(rolled, [], catalog, ["KEY_A", "KEY_B"], []) is False


def test_diff_names_keys_and_deployments_only():
    changes = [secrets.KeyChange("KEY_A", "update"), secrets.KeyChange("KEY_B", "none")]
    diff = secrets.diff_text(changes, ["octo-dep-d1"])
    assert diff["before"] == "KEY_A: (a value)\ndeployment octo-dep-d1: (pods read older values)\n"
    assert diff["after"] == "KEY_A: (changed value)\ndeployment octo-dep-d1: (rolled)\n"
