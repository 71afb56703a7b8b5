"""Cloud Storage bucket I/O through google-cloud-storage: read, create, patch, and IAM policy."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.gcp.bucket_posture import patch_body
from ansible_collections.octo.platform.plugins.module_utils.gcp.storage_client import storage_client

try:
    from google.api_core import exceptions as api_errors
except ImportError:  # storage_client raises DependencyError first
    api_errors = None

IAM_POLICY_VERSION = 3


class BucketClient:
    def __init__(self, auth: dict, name: str):
        self.client = storage_client(auth)
        self.name = name
        self.what = f"bucket {name}"
        self.timeout = auth.get("request_timeout") or 30.0

    def read(self):
        """The Bucket, or None when it does not exist."""
        return self._call("read", lambda: self.client.lookup_bucket(self.name, timeout=self.timeout))

    def create(self, want: dict, location: str, storage_class: str):
        bucket = self.client.bucket(self.name)
        bucket.storage_class = storage_class
        _set_posture(bucket, want, {})
        return self._call(
            "create", lambda: self.client.create_bucket(bucket, location=location, timeout=self.timeout)
        )

    def patch(self, bucket, want: dict) -> None:
        _set_posture(bucket, want, dict(bucket._properties))
        self._call("update", lambda: bucket.patch(timeout=self.timeout))

    def bindings(self, bucket) -> list[dict]:
        policy = self._call(
            "read IAM policy of",
            lambda: bucket.get_iam_policy(requested_policy_version=IAM_POLICY_VERSION, timeout=self.timeout),
        )
        return [{"role": b["role"], "members": sorted(b.get("members", []))} for b in policy.bindings]

    def set_bindings(self, bucket, bindings: list[dict]) -> None:
        def update():
            policy = bucket.get_iam_policy(requested_policy_version=IAM_POLICY_VERSION, timeout=self.timeout)
            policy.version = IAM_POLICY_VERSION
            policy.bindings = [{**b, "members": set(b["members"])} for b in bindings]
            bucket.set_iam_policy(policy, timeout=self.timeout)

        self._call("update IAM policy of", update)

    def _call(self, verb: str, call):
        try:
            return call()
        except api_errors.GoogleAPICallError as err:
            raise OctoError(
                verb, self.what, f"{getattr(err, 'code', '')} {getattr(err, 'message', err)}"
            ) from None


def _set_posture(bucket, want: dict, resource: dict) -> None:
    body = patch_body(want, resource)
    bucket.versioning_enabled = True
    bucket.iam_configuration.uniform_bucket_level_access_enabled = True
    bucket.iam_configuration.public_access_prevention = body["iamConfiguration"]["publicAccessPrevention"]
    if "labels" in body:
        bucket.labels = body["labels"]
    if "lifecycle" in body:
        bucket.lifecycle_rules = body["lifecycle"]["rule"]
