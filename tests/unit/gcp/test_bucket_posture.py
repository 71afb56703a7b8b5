from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.gcp import bucket_posture

LOCKED = {
    "versioning": {"enabled": True},
    "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True}, "publicAccessPrevention": "enforced"},
    "labels": {"app": "octo", "team": "x"},
    "lifecycle": {"rule": [{"action": {"type": "Delete"}, "condition": {"isLive": False, "numNewerVersions": 5}},
                           {"action": {"type": "Delete"}, "condition": {"age": 400}}]},
}  # fmt: skip


def want(**extra):
    return bucket_posture.wanted(
        {"name": "octo-state", "labels": {"app": "octo"}, "keep_noncurrent_versions": 5, **extra}
    )


def test_locked_bucket_has_no_drift():
    assert bucket_posture.drift(want(), bucket_posture.observed(LOCKED, None), False) == []


def test_empty_bucket_drifts_everywhere_and_patch_keeps_other_rules():
    fields = [d["field"] for d in bucket_posture.drift(want(), bucket_posture.observed({}, None), False)]
    assert fields == ["versioning", "uniform_bucket_level_access", "public_access_prevention", "labels",
                      "keep_noncurrent_versions"]  # fmt: skip
    body = bucket_posture.patch_body(want(keep_noncurrent_versions=3), LOCKED)
    assert {"action": {"type": "Delete"}, "condition": {"age": 400}} in body["lifecycle"]["rule"]
    assert bucket_posture.noncurrent_rule(body) == 3
    assert body["labels"] == {"app": "octo", "team": "x"}


def test_iam_members_beyond_allowed():
    bindings = [{"role": "r", "members": ["user:a@x.y", "user:b@x.y"]}]
    have = bucket_posture.observed(LOCKED, bindings)
    drift = bucket_posture.drift(want(allowed_members=["user:a@x.y"]), have, True)
    assert drift == [{"field": "iam_members", "actual": ["user:b@x.y"], "wanted": "only allowed_members"}]
    assert bucket_posture.allowed_bindings(bindings, ["user:a@x.y"]) == [
        {"role": "r", "members": ["user:a@x.y"]}
    ]
