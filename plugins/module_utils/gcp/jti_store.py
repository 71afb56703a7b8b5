"""The deploy gate's replay records in the state bucket: an object per jti, created with if_generation_match=0.

A 412 on create means the jti was seen before, by any action (see auth.replay for the protocol).
"""

from __future__ import annotations

import json

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.gcp.storage_client import storage_client

try:
    from google.api_core import exceptions as api_errors
except ImportError:  # storage_client raises DependencyError first
    api_errors = None

CONTENT_TYPE = "application/json"
SCAN_LIMIT = 1000  # objects listed per run at most


class GcsReplay:
    def __init__(self, settings: dict):
        if not settings.get("bucket"):
            raise ValidationError(
                "the replay records", "replay_gcs.bucket", "required with replay_backend=gcs"
            )
        self.prefix = settings["prefix"]
        self.timeout = settings.get("request_timeout") or 30.0
        self.bucket = storage_client(settings).bucket(settings["bucket"])
        self.what = f"replay records in gs://{settings['bucket']}/{self.prefix}"

    def seen(self, key: str) -> dict | None:
        try:
            blob = self.bucket.get_blob(self.prefix + key, timeout=self.timeout)
            return None if blob is None else json.loads(blob.download_as_bytes(timeout=self.timeout))
        except (api_errors.GoogleAPICallError, ValueError) as err:
            raise OctoError("read", self.what, _reason(err)) from None

    def record(self, key: str, entry: dict) -> dict | None:
        blob = self.bucket.blob(self.prefix + key)
        blob.metadata = {"expires": str(entry["expires"])}
        try:
            blob.upload_from_string(
                json.dumps(entry), content_type=CONTENT_TYPE, if_generation_match=0, timeout=self.timeout
            )
        except api_errors.PreconditionFailed:
            return self.seen(key) or {}
        except api_errors.GoogleAPICallError as err:
            raise OctoError("write", self.what, _reason(err)) from None
        return None

    def prune(self, now: float, limit: int) -> int:
        pruned = 0
        try:
            blobs = self.bucket.list_blobs(prefix=self.prefix, max_results=SCAN_LIMIT, timeout=self.timeout)
            for blob in blobs:
                expires = (blob.metadata or {}).get("expires", "")
                if pruned >= limit or not expires.isdigit() or int(expires) >= now:
                    continue
                blob.delete(if_generation_match=blob.generation, timeout=self.timeout)
                pruned += 1
        except api_errors.PreconditionFailed:
            return pruned  # rewritten meanwhile: left for a later run
        except api_errors.GoogleAPICallError as err:
            raise OctoError("prune", self.what, _reason(err)) from None
        return pruned


def _reason(err) -> str:
    return f"{getattr(err, 'code', '')} {getattr(err, 'message', err)}".strip()
