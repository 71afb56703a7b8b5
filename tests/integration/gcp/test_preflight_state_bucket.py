"""platform_preflight's state bucket posture: gcs_state_bucket's drift report on fake-gcs-server, made true and false."""

from __future__ import annotations

from gcp_support import PROJECT, module_params
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import STATE_BUCKET
from ansible_collections.octo.platform.plugins.module_utils.common.preflight_args import PREFLIGHT
from ansible_collections.octo.platform.plugins.module_utils.gcp import state_bucket
from ansible_collections.octo.platform.plugins.module_utils.kube import preflight

SETTINGS = {
    "namespace": "octo",
    "integrations_namespace": "octo-dev",
    "domain": "octo.test",
    "postgres_mode": "external",
}


def report(drift):
    params = module_params(
        {**PREFLIGHT, **K8S_AUTH}, settings=SETTINGS, cluster=False, state_bucket_drift=drift
    )
    return [(f["id"], f["evidence"]) for f in preflight.run(params)["findings"]]


def test_bucket_drift_becomes_findings_until_fixed(fake_gcs, unique):
    gcs = storage.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options={"api_endpoint": fake_gcs.url}
    )
    bucket = gcs.create_bucket(
        gcs.bucket(unique("state"))
    )  # versioning off, public access prevention inherited
    ensure = module_params(
        STATE_BUCKET, name=bucket.name, project=PROJECT, auth_kind="anonymous", storage_endpoint=fake_gcs.url
    )
    drift = state_bucket.ensure(ensure)["drift"]
    found = report(drift)
    assert ("state_bucket_drift", "state bucket versioning is False (wanted True)") in found
    assert (
        "state_bucket_drift",
        "state bucket public_access_prevention is inherited (wanted enforced)",
    ) in found
    assert {finding_id for finding_id, _ in found} == {"state_bucket_drift"}
    state_bucket.ensure({**ensure, "fix_drift": True})
    assert report(state_bucket.ensure(ensure)["drift"]) == []
