"""gcs_state_bucket through google-cloud-storage against fake-gcs-server (+ its bucket-metadata overlay)."""

from __future__ import annotations

import json
import urllib.request

import pytest
from conftest import PROJECT, module_params
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import STATE_BUCKET
from ansible_collections.octo.platform.plugins.module_utils.gcp.state_bucket import ensure

OWNER = f"projectOwner:{PROJECT}"


def params(fake_gcs, name, **extra):
    return module_params(
        STATE_BUCKET,
        name=name,
        project=PROJECT,
        auth_kind="anonymous",
        storage_endpoint=fake_gcs.url,
        **extra,
    )


def raw_bucket(fake_gcs, name) -> dict:
    """The bucket as fake-gcs-server itself stores it (no overlay)."""
    with urllib.request.urlopen(f"{fake_gcs.raw_url}/storage/v1/b/{name}") as response:
        return json.loads(response.read())


def test_four_runs_through_ansible_playbook(fake_gcs, unique, gcs_env):
    name = unique("state")
    task = {
        "name": "bucket",
        "octo.platform.gcs_state_bucket": {
            "name": name, "labels": {"app": "octo"}, "keep_noncurrent_versions": 5, "allowed_members": [OWNER],
        },
    }  # fmt: skip
    runs = [run_tasks([task], check=check, diff=True, env=gcs_env) for check in (True, False, True, False)]
    assert all(run.rc == 0 for run in runs), runs[-1].output
    assert [run.task("bucket")["status"] for run in runs] == ["changed", "changed", "ok", "ok"]
    assert raw_bucket(fake_gcs, name)["versioning"] == {"enabled": True}  # stored by fake-gcs-server itself
    result = runs[-1].task("bucket")["result"]
    assert result["drift"] == [] and result["bucket"]["members"] == [OWNER]
    assert result["bucket"]["public_access_prevention"] == "enforced"
    assert result["bucket"]["keep_noncurrent_versions"] == 5


def test_versioning_drift_reported_then_fixed(fake_gcs, unique):
    name = unique("state")
    request = urllib.request.Request(
        f"{fake_gcs.url}/storage/v1/b?project={PROJECT}", data=json.dumps({"name": name}).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    urllib.request.urlopen(request).close()
    report = ensure(params(fake_gcs, name), diff=True)
    assert not report["changed"] and not report["compliant"]
    assert {d["field"] for d in report["drift"]} == {
        "versioning", "uniform_bucket_level_access", "public_access_prevention",
    }  # fmt: skip
    assert raw_bucket(fake_gcs, name).get("versioning", {}).get("enabled") is not True
    assert ensure(params(fake_gcs, name, fix_drift=True), check_mode=True)["changed"]
    assert raw_bucket(fake_gcs, name).get("versioning", {}).get("enabled") is not True
    fixed = ensure(params(fake_gcs, name, fix_drift=True), diff=True)
    assert fixed["changed"] and fixed["diff"]["after"]["versioning"] is True
    assert raw_bucket(fake_gcs, name)["versioning"] == {"enabled": True}
    assert ensure(params(fake_gcs, name))["drift"] == []


def test_iam_members_beyond_allowed_list(fake_gcs, unique):
    name = unique("state")
    ensure(params(fake_gcs, name))  # no allowed_members: the policy keeps GCS defaults
    editors = f"projectEditor:{PROJECT}"
    report = ensure(params(fake_gcs, name, allowed_members=[OWNER]))
    assert report["drift"] == [
        {
            "field": "iam_members",
            "actual": [editors, f"projectViewer:{PROJECT}"],
            "wanted": "only allowed_members",
        }
    ]
    assert editors in json.dumps(fake_gcs.policies[name])
    assert ensure(params(fake_gcs, name, allowed_members=[OWNER], fix_drift=True))["changed"]
    assert fake_gcs.policies[name]["bindings"] == [
        {"role": "roles/storage.legacyBucketOwner", "members": [OWNER]}
    ]
    assert not ensure(params(fake_gcs, name, allowed_members=[OWNER], fix_drift=True))["changed"]


@pytest.mark.parametrize(
    "extra, field",
    [({"name": "Bad_Name"}, "name"), ({"labels": {"App": "x"}}, "labels"),
     ({"allowed_members": ["allUsers"]}, "allowed_members"), ({"keep_noncurrent_versions": 0}, "keep_noncurrent_versions")],
)  # fmt: skip
def test_bad_input_creates_nothing(fake_gcs, unique, extra, field):
    name = unique("state")
    with pytest.raises(ValidationError) as err:
        ensure({**params(fake_gcs, name), **extra})
    assert err.value.field == field
    with pytest.raises(urllib.error.HTTPError):
        raw_bucket(fake_gcs, name)
