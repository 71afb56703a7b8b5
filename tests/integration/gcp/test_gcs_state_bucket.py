"""gcs_state_bucket through google-cloud-storage against fake-gcs-server (+ its bucket-metadata overlay)."""

from __future__ import annotations

import json
import urllib.request

import pytest
from gcp_support import PROJECT, module_params
from google.api_core import exceptions as api_errors
from google.api_core.iam import Policy
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import STATE_BUCKET
from ansible_collections.octo.platform.plugins.module_utils.gcp.state_bucket import ensure

OWNER = f"projectOwner:{PROJECT}"
OPS = "user:ops@example.com"


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


def test_iam_etag_changes_on_every_write_and_a_stale_one_gets_412(fake_gcs, unique):
    client = storage.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": fake_gcs.url}
    )
    bucket = client.create_bucket(unique("iam"))
    first = bucket.get_iam_policy()
    etags = [first.etag]
    for member in ("user:a@example.com", "user:b@example.com", "user:c@example.com"):
        policy = bucket.get_iam_policy()
        policy.bindings.append({"role": "roles/storage.objectViewer", "members": {member}})
        etags.append(bucket.set_iam_policy(policy).etag)
    assert len(set(etags)) == 4, etags  # a new etag on every write
    assert bucket.get_iam_policy().etag == etags[-1]
    stale = Policy.from_api_repr({"etag": etags[-2], "bindings": []})
    with pytest.raises(api_errors.PreconditionFailed):
        bucket.set_iam_policy(stale)
    # the stale write changed nothing
    assert "user:c@example.com" in json.dumps(fake_gcs.policies[bucket.name])


def test_concurrent_iam_writer_between_read_and_write_is_not_lost(monkeypatch, fake_gcs, unique):
    name = unique("state")
    ensure(params(fake_gcs, name))
    theirs = [
        *fake_gcs.default_policy(name)["bindings"],
        {"role": "roles/storage.objectViewer", "members": [OPS]},
    ]
    # Another writer grants OPS right after our read: our write carries a stale etag (412).
    monkeypatch.setattr(fake_gcs, "after_iam_read", lambda: fake_gcs.set_policy(name, theirs))
    result = ensure(params(fake_gcs, name, allowed_members=[OWNER, OPS], fix_drift=True))
    assert result["changed"] and len(result["conflicts"]) == 1 and "412" in result["conflicts"][0]
    assert fake_gcs.policies[name]["bindings"] == [
        {"role": "roles/storage.legacyBucketOwner", "members": [OWNER]},
        {"role": "roles/storage.objectViewer", "members": [OPS]},
    ]  # their grant is kept, the members not allowed are gone
    again = ensure(params(fake_gcs, name, allowed_members=[OWNER, OPS], fix_drift=True))
    assert not again["changed"] and again["drift"] == []


def test_iam_retries_are_bounded(monkeypatch, fake_gcs, unique):
    name = unique("state")
    ensure(params(fake_gcs, name))
    writes = iter(range(100))

    def keep_changing():
        member = f"user:intruder-{next(writes)}@example.com"
        fake_gcs.set_policy(name, [{"role": "roles/storage.objectViewer", "members": [OWNER, member]}])
        fake_gcs.after_iam_read = keep_changing

    monkeypatch.setattr(fake_gcs, "after_iam_read", keep_changing)
    with pytest.raises(
        OctoError, match=r"Failed to update IAM policy of bucket .*gave up after 3 attempts"
    ) as err:
        ensure(params(fake_gcs, name, allowed_members=[OWNER], fix_drift=True))
    assert len(err.value.details["conflicts"]) == 3
    assert "user:intruder-3@example.com" in json.dumps(fake_gcs.policies[name])  # only the other writer wrote


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
