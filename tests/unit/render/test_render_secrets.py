"""Pure rules of the integration secrets: catalog entries, which deployments roll, roll patches, diffs."""

from __future__ import annotations

import json

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render import secrets

UID = "0f1e2d3c"
CREATED = "2026-11-27T10:00:00Z"


def deployment(keys, rolled_for=None, created=CREATED, uid=UID):
    env = [
        {"name": f"ENV_{key}", "valueFrom": {"secretKeyRef": {"name": "octo-secrets", "key": key}}}
        for key in keys
    ]
    annotations = {secrets.ROLLED_FOR: json.dumps(rolled_for)} if rolled_for is not None else {}
    return {
        "metadata": {"name": "octo-dep-d1", "uid": uid, "creationTimestamp": created},
        "spec": {
            "template": {
                "metadata": {"annotations": annotations},
                "spec": {"containers": [{"name": "octo", "env": [*env, {"name": "PLAIN", "value": "x"}]}]},
            }
        },
    }


def rotated_by_0_1(at):
    dep = deployment(["KEY_A"])
    dep["spec"]["template"]["metadata"]["annotations"][secrets.ROTATED_AT] = at
    return dep


def entry(write="w-new", readers=(UID,)):
    return secrets.catalog_entry(None, "2026-11-27T12:00:00Z", "ops@ctl", write, readers)


def old_entry(updated="2026-11-27T12:00:00Z"):
    return {"created": CREATED, "updated": updated, "by": "ops@ctl"}


def test_catalog_entry_keeps_created_and_identifies_the_write():
    first = entry("aa", readers=["u2", "u1"])
    second = secrets.catalog_entry(first, "2026-11-27T13:00:00Z", "ci@runner", "bb", [])
    assert first["readers"] == ["u1", "u2"]
    assert second == {
        "created": first["created"],
        "updated": "2026-11-27T13:00:00Z",
        "by": "ci@runner",
        "write": "bb",
        "readers": [],
    }
    assert secrets.write_identity(first) != secrets.write_identity(second)


def test_readers_are_the_deployments_binding_the_key():
    deployments = [deployment(["KEY_A"], uid="u1"), deployment(["KEY_B"], uid="u2"), deployment([], uid="u3")]
    assert secrets.readers_of(deployments, "KEY_A") == ["u1"]


def test_entries_from_before_write_ids_are_identified_by_their_time():
    old = old_entry()
    secret = {
        "metadata": {"annotations": {"catalog.octo.dev/KEY_A": json.dumps(old)}},
        "data": {"KEY_A": "eA=="},
    }
    assert secrets.read_catalog(secret) == {"KEY_A": old}
    assert secrets.write_identity(old) == "2026-11-27T12:00:00Z"
    assert secrets.write_identity({}) is None


@pytest.mark.parametrize(
    ("dep", "catalog", "rolls"),
    [
        # read the key at its last write and never rolled for it: the missed roll
        (deployment(["KEY_A"]), {"KEY_A": entry()}, True),
        (deployment(["KEY_A"], {"KEY_A": "w-old"}), {"KEY_A": entry()}, True),
        # rolled for the last write already
        (deployment(["KEY_A"], {"KEY_A": "w-new"}), {"KEY_A": entry()}, False),
        # created after the write (not among its readers): its pods started with the current value
        (deployment(["KEY_A"], uid="later"), {"KEY_A": entry()}, False),
        # an entry from before write ids: the Deployment created before or in the second of the write rolls
        (deployment(["KEY_A"]), {"KEY_A": old_entry()}, True),
        (deployment(["KEY_A"], created="2026-11-27T12:00:00Z"), {"KEY_A": old_entry()}, True),
        (deployment(["KEY_A"], created="2026-11-27T12:00:01Z"), {"KEY_A": old_entry()}, False),
        (deployment(["KEY_A"], {"KEY_A": "2026-11-27T12:00:00Z"}), {"KEY_A": old_entry()}, False),
        # rolled by 0.1 after that write (its annotation carries the write's time), or before it
        (rotated_by_0_1("2026-11-27T12:00:00Z"), {"KEY_A": old_entry()}, False),
        (rotated_by_0_1("2026-11-27T11:59:59Z"), {"KEY_A": old_entry()}, True),
        # unreadable times: unknown, so roll
        (deployment(["KEY_A"], created="not a time"), {"KEY_A": old_entry("2026-11-27")}, True),
        # a key set by other tools (no catalog entry): nothing to compare with
        (deployment(["KEY_A"]), {}, False),
        # the deployment does not read the keys of the call
        (deployment(["KEY_B"]), {"KEY_B": entry()}, False),
    ],
)
def test_needs_roll(dep, catalog, rolls):
    assert secrets.needs_roll(dep, catalog, ["KEY_A"]) is rolls


def test_unreadable_roll_annotation_means_never_rolled():
    dep = deployment(["KEY_A"])
    dep["spec"]["template"]["metadata"]["annotations"][secrets.ROLLED_FOR] = "{not json"
    assert secrets.rolled_for(dep) == {}
    assert secrets.needs_roll(dep, {"KEY_A": entry()}, ["KEY_A"]) is True


def test_roll_patch_records_every_bound_key_and_drops_the_old_annotation():
    dep = deployment(["KEY_B", "KEY_A", "OTHER"])
    catalog = {"KEY_A": entry("a1"), "KEY_B": old_entry()}
    annotations = secrets.roll_patch(dep, catalog)["spec"]["template"]["metadata"]["annotations"]
    recorded = '{"KEY_A":"a1","KEY_B":"2026-11-27T12:00:00Z"}'
    assert annotations == {secrets.ROLLED_FOR: recorded, secrets.ROTATED_AT: None}
    rolled = deployment(["KEY_B", "KEY_A", "OTHER"], json.loads(recorded))
    assert secrets.needs_roll(rolled, catalog, ["KEY_A", "KEY_B"]) is False


def test_diff_names_keys_and_deployments_only():
    changes = [secrets.KeyChange("KEY_A", "update"), secrets.KeyChange("KEY_B", "none")]
    diff = secrets.diff_text(changes, ["octo-dep-d1"])
    assert diff["before"] == "KEY_A: (a value)\ndeployment octo-dep-d1: (pods read older values)\n"
    assert diff["after"] == "KEY_A: (changed value)\ndeployment octo-dep-d1: (rolled)\n"
