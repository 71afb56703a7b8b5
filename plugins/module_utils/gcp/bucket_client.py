"""Cloud Storage bucket I/O through google-cloud-storage: read, create, patch, and IAM policy."""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.gcp.bucket_posture import patch_body
from ansible_collections.octo.platform.plugins.module_utils.gcp.storage_client import storage_client

try:
    from google.api_core import exceptions as api_errors
    from google.api_core.iam import Policy
except ImportError:  # storage_client raises DependencyError first
    api_errors = Policy = None

IAM_POLICY_VERSION = 3


@dataclass(frozen=True)
class IamPolicy:
    """The bindings of a bucket IAM policy (members sorted) and the etag they were read with."""

    bindings: list[dict]
    etag: str | None


class IamConflict(Exception):
    """setIamPolicy failed with 412: the policy changed since it was read (stale etag)."""


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

    def iam_policy(self, bucket) -> IamPolicy:
        policy = self._call(
            "read IAM policy of",
            lambda: bucket.get_iam_policy(requested_policy_version=IAM_POLICY_VERSION, timeout=self.timeout),
        )
        bindings = [{**b, "members": sorted(b.get("members", []))} for b in policy.bindings]
        return IamPolicy(bindings, policy.etag)

    def set_bindings(self, bucket, policy: IamPolicy) -> None:
        """Write the bindings conditionally on the etag they were read with; IamConflict on 412."""
        resource = {"version": IAM_POLICY_VERSION, "etag": policy.etag, "bindings": policy.bindings}
        try:
            bucket.set_iam_policy(Policy.from_api_repr(resource), timeout=self.timeout)
        except api_errors.PreconditionFailed as err:
            raise IamConflict(_reason(err)) from None
        except api_errors.GoogleAPICallError as err:
            raise OctoError("update IAM policy of", self.what, _reason(err)) from None

    def _call(self, verb: str, call):
        try:
            return call()
        except api_errors.GoogleAPICallError as err:
            raise OctoError(verb, self.what, _reason(err)) from None


def _reason(err) -> str:
    return f"{getattr(err, 'code', '')} {getattr(err, 'message', err)}".strip()


def _set_posture(bucket, want: dict, resource: dict) -> None:
    body = patch_body(want, resource)
    bucket.versioning_enabled = True
    bucket.iam_configuration.uniform_bucket_level_access_enabled = True
    bucket.iam_configuration.public_access_prevention = body["iamConfiguration"]["publicAccessPrevention"]
    if "labels" in body:
        bucket.labels = body["labels"]
    if "lifecycle" in body:
        bucket.lifecycle_rules = body["lifecycle"]["rule"]
