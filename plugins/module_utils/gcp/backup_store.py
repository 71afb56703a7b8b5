"""Backup objects in the state bucket: list under backups/, upload once, download, delete."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.gcp.storage_client import storage_client

try:
    from google.api_core import exceptions as api_errors
except ImportError:  # storage_client raises DependencyError first
    api_errors = None

CONTENT_TYPE = "application/octet-stream"


class BackupStore:
    def __init__(self, auth: dict, bucket: str):
        self.timeout = auth.get("request_timeout") or 30.0
        self.bucket = storage_client(auth).bucket(bucket)
        self.what = f"bucket {bucket}"

    def list(self, prefix: str) -> dict:
        """{object name: {size, metadata}} under prefix."""
        blobs = self._call("list backups in", lambda: list(self.bucket.list_blobs(prefix=prefix)))
        return {b.name: {"size": b.size, "metadata": dict(b.metadata or {})} for b in blobs}

    def upload(self, name: str, path: str, metadata: dict) -> None:
        """Create the object from a file; it must not exist yet (generation 0 precondition)."""
        blob = self.bucket.blob(name)
        blob.metadata = metadata
        self._call(
            f"upload gs://{self.bucket.name}/{name} to",
            lambda: blob.upload_from_filename(
                path, content_type=CONTENT_TYPE, if_generation_match=0, timeout=self.timeout
            ),
        )

    def download(self, name: str, path: str) -> dict:
        """The object into a file; returns its metadata."""
        blob = self._call(f"read gs://{self.bucket.name}/{name} in", lambda: self.bucket.get_blob(name))
        if blob is None:
            raise OctoError("find", f"backup gs://{self.bucket.name}/{name}", "it does not exist")
        self._call(
            f"download gs://{self.bucket.name}/{name} from",
            lambda: blob.download_to_filename(
                path, if_generation_match=blob.generation, timeout=self.timeout
            ),
        )
        return dict(blob.metadata or {})

    def delete(self, name: str) -> None:
        self._call(f"delete gs://{self.bucket.name}/{name} in", lambda: self.bucket.delete_blob(name))

    def _call(self, verb: str, call):
        try:
            return call()
        except api_errors.GoogleAPICallError as err:
            reason = f"{getattr(err, 'code', '')} {getattr(err, 'message', err)}".strip()
            raise OctoError(verb, self.what, reason) from None
