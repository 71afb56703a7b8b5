"""Credentials state in a GCS object, written with generation preconditions (compare-and-swap)."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.gcp.storage_client import storage_client
from ansible_collections.octo.platform.plugins.module_utils.state.store import StateConflict

try:
    from google.api_core import exceptions as api_errors
except ImportError:  # storage_client raises DependencyError first
    api_errors = None

CONTENT_TYPE = "application/json"


class GcsStore:
    def __init__(self, auth: dict, bucket: str | None, object_name: str):
        if not bucket:
            raise ValidationError("platform credentials", "bucket", "required with backend=gcs")
        if not object_name or object_name.startswith("/"):
            raise ValidationError("platform credentials", "object_name", "must be a relative object name")
        self.timeout = auth.get("request_timeout") or 30.0
        self.bucket = storage_client(auth).bucket(bucket)
        self.object_name = object_name
        self.what = f"state object gs://{bucket}/{object_name}"

    def read(self) -> tuple[bytes | None, int]:
        try:
            blob = self.bucket.get_blob(self.object_name, timeout=self.timeout)
            if blob is None:
                self._require_bucket()
                return None, 0
            return blob.download_as_bytes(
                if_generation_match=blob.generation, timeout=self.timeout
            ), blob.generation
        except api_errors.PreconditionFailed:
            raise StateConflict(f"{self.what} changed while it was read") from None
        except api_errors.GoogleAPICallError as err:
            raise OctoError("read", self.what, _reason(err)) from None

    def _require_bucket(self) -> None:
        if not self.bucket.exists(timeout=self.timeout):
            raise OctoError(
                "find", f"bucket {self.bucket.name}", "it does not exist (create it with gcs_state_bucket)"
            )

    def write(self, data: bytes, generation: int) -> int:
        blob = self.bucket.blob(self.object_name)
        try:
            blob.upload_from_string(
                data, content_type=CONTENT_TYPE, if_generation_match=generation, timeout=self.timeout
            )
        except api_errors.PreconditionFailed:
            raise StateConflict(f"{self.what} changed since generation {generation}") from None
        except api_errors.GoogleAPICallError as err:
            raise OctoError("write", self.what, _reason(err)) from None
        return blob.generation


def _reason(err) -> str:
    return f"{getattr(err, 'code', '')} {getattr(err, 'message', err)}".strip()
