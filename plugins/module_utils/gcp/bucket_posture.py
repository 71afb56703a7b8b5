"""Pure posture of the state bucket: what it must look like, and the drift of a bucket resource from it."""

from __future__ import annotations

import re

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError

WHAT = "state bucket"
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
MEMBER = re.compile(r"^(allUsers|allAuthenticatedUsers|[a-zA-Z]+:.+)$")


def wanted(params: dict) -> dict:
    """The posture asked for, validated; raises ValidationError before any call."""
    name = params.get("name") or ""
    if not BUCKET_NAME.match(name) or ".." in name or name.startswith("goog"):
        raise ValidationError(WHAT, "name", f"{name!r} is not a valid bucket name")
    labels = {str(k): str(v) for k, v in (params.get("labels") or {}).items()}
    for key, value in labels.items():
        if not LABEL_KEY.match(key) or not LABEL_VALUE.match(value):
            raise ValidationError(
                WHAT, "labels", f"{key!r} is not a valid label (lower case, digits, _ and -)"
            )
    keep = params.get("keep_noncurrent_versions")
    if keep is not None and keep < 1:
        raise ValidationError(WHAT, "keep_noncurrent_versions", "must be 1 or more")
    members = list(params.get("allowed_members") or [])
    for member in members:
        if not MEMBER.match(member):
            raise ValidationError(
                WHAT, "allowed_members", f"{member!r} is not an IAM member (e.g. user:a@b.c)"
            )
        if member in ("allUsers", "allAuthenticatedUsers"):
            raise ValidationError(WHAT, "allowed_members", f"{member} would make the state bucket public")
    return {
        "versioning": True,
        "uniform_bucket_level_access": True,
        "public_access_prevention": "enforced",
        "labels": labels,
        "keep_noncurrent_versions": keep,
        "allowed_members": sorted(set(members)),
    }


def observed(resource: dict, bindings: list[dict] | None) -> dict:
    """The same shape read from a bucket resource (JSON API) and its IAM bindings (None when not checked)."""
    iam = resource.get("iamConfiguration") or {}
    return {
        "versioning": bool((resource.get("versioning") or {}).get("enabled")),
        "uniform_bucket_level_access": bool((iam.get("uniformBucketLevelAccess") or {}).get("enabled")),
        "public_access_prevention": iam.get("publicAccessPrevention") or "inherited",
        "labels": dict(resource.get("labels") or {}),
        "keep_noncurrent_versions": noncurrent_rule(resource),
        "members": sorted({m for b in bindings or [] for m in b.get("members", [])}),
    }


def noncurrent_rule(resource: dict) -> int | None:
    for rule in _rules(resource):
        if _is_noncurrent_rule(rule):
            return int(rule["condition"]["numNewerVersions"])
    return None


def _rules(resource: dict) -> list[dict]:
    return list((resource.get("lifecycle") or {}).get("rule") or [])


def _is_noncurrent_rule(rule: dict) -> bool:
    condition = rule.get("condition") or {}
    return (
        (rule.get("action") or {}).get("type") == "Delete"
        and condition.get("isLive") is False
        and ("numNewerVersions" in condition)
    )


def drift(want: dict, have: dict, check_iam: bool) -> list[dict]:
    """Every difference from the posture, as {field, actual, wanted}."""
    found = [
        {"field": field, "actual": have[field], "wanted": want[field]}
        for field in ("versioning", "uniform_bucket_level_access", "public_access_prevention")
        if have[field] != want[field]
    ]
    wrong = {k: v for k, v in want["labels"].items() if have["labels"].get(k) != v}
    if wrong:
        found.append(
            {"field": "labels", "actual": {k: have["labels"].get(k) for k in wrong}, "wanted": wrong}
        )
    keep = want["keep_noncurrent_versions"]
    if keep is not None and have["keep_noncurrent_versions"] != keep:
        found.append(
            {"field": "keep_noncurrent_versions", "actual": have["keep_noncurrent_versions"], "wanted": keep}
        )
    extra = [m for m in have["members"] if m not in want["allowed_members"]]
    if check_iam and extra:
        found.append({"field": "iam_members", "actual": extra, "wanted": "only allowed_members"})
    return found


def patch_body(want: dict, resource: dict) -> dict:
    """JSON API fields that bring resource to the posture (other lifecycle rules and labels are kept)."""
    body = {
        "versioning": {"enabled": True},
        "iamConfiguration": {
            "uniformBucketLevelAccess": {"enabled": True},
            "publicAccessPrevention": want["public_access_prevention"],
        },
    }
    if want["labels"]:
        body["labels"] = {**(resource.get("labels") or {}), **want["labels"]}
    if want["keep_noncurrent_versions"] is not None:
        rules = [rule for rule in _rules(resource) if not _is_noncurrent_rule(rule)]
        rules.append(
            {
                "action": {"type": "Delete"},
                "condition": {"isLive": False, "numNewerVersions": want["keep_noncurrent_versions"]},
            }
        )
        body["lifecycle"] = {"rule": rules}
    return body


def allowed_bindings(bindings: list[dict], allowed: list[str]) -> list[dict]:
    """The bindings with every member not in allowed removed (empty bindings dropped)."""
    kept = []
    for binding in bindings:
        members = sorted(m for m in binding.get("members", []) if m in allowed)
        if members:
            kept.append({**binding, "members": members})
    return kept
