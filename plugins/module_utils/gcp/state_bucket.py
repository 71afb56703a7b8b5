"""Operation of gcs_state_bucket: ensure the locked-down bucket, report drift, fix it when asked."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import gcp_auth_params
from ansible_collections.octo.platform.plugins.module_utils.gcp import bucket_posture
from ansible_collections.octo.platform.plugins.module_utils.gcp.bucket_client import (
    BucketClient,
    IamConflict,
    IamPolicy,
)

IAM_RETRIES = 2  # re-reads after a 412 from a concurrent IAM writer


def ensure(params: dict, check_mode: bool = False, diff: bool = False) -> dict:
    want = bucket_posture.wanted(params)
    check_iam = bool(want["allowed_members"])
    client = BucketClient(gcp_auth_params(params), params["name"])
    bucket = client.read()
    if bucket is None:
        return _create(client, want, params, check_mode, diff)
    policy = client.iam_policy(bucket) if check_iam else None
    have = bucket_posture.observed(dict(bucket._properties), policy.bindings if policy else None)
    drift = bucket_posture.drift(want, have, check_iam)
    fix = bool(drift) and params.get("fix_drift", False)
    result = {
        "changed": fix,
        "created": False,
        "drift": drift,
        "compliant": not drift or fix,
        "bucket": _summary(have),
        "conflicts": [],
    }
    if diff:
        result["diff"] = _diff(have, drift if fix else [])
    if check_mode or not fix:
        return result
    fields = {item["field"] for item in drift}
    if fields - {"iam_members"}:
        client.patch(bucket, want)
    if "iam_members" in fields:
        result["conflicts"] = _keep_allowed(client, bucket, policy, want["allowed_members"])
    return result


def _create(client: BucketClient, want: dict, params: dict, check_mode: bool, diff: bool) -> dict:
    after = {**want, "members": want["allowed_members"]}
    result = {
        "changed": True,
        "created": True,
        "drift": [],
        "compliant": True,
        "bucket": _summary(after),
        "conflicts": [],
    }
    if diff:
        result["diff"] = {"before": {}, "after": _summary(after)}
    if check_mode:
        return result
    bucket = client.create(want, params["location"], params["storage_class"])
    if want["allowed_members"]:
        policy = client.iam_policy(bucket)
        result["conflicts"] = _keep_allowed(client, bucket, policy, want["allowed_members"])
    return result


def _keep_allowed(client: BucketClient, bucket, policy: IamPolicy, allowed: list[str]) -> list[str]:
    """Remove members not allowed, writing with the etag read; after a 412 re-read and recompute."""
    conflicts = []
    while True:
        kept = bucket_posture.allowed_bindings(policy.bindings, allowed)
        if kept == policy.bindings:
            return conflicts
        if len(conflicts) > IAM_RETRIES:
            raise OctoError(
                "update IAM policy of",
                client.what,
                f"another writer kept changing it; gave up after {len(conflicts)} attempts ({conflicts[-1]})",
                conflicts=conflicts,
            )
        try:
            client.set_bindings(bucket, IamPolicy(kept, policy.etag))
            return conflicts
        except IamConflict as err:
            conflicts.append(str(err))
            policy = client.iam_policy(bucket)


def _summary(posture: dict) -> dict:
    return {key: value for key, value in posture.items() if key not in ("allowed_members",)}


def _diff(have: dict, fixed: list[dict]) -> dict:
    before = _summary(have)
    after = dict(before)
    for item in fixed:
        if item["field"] == "labels":
            after["labels"] = {**after["labels"], **item["wanted"]}
        elif item["field"] == "iam_members":
            after["members"] = [m for m in after["members"] if m not in item["actual"]]
        else:
            after[item["field"]] = item["wanted"]
    return {"before": before, "after": after}
