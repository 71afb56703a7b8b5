"""Replay records: one entry per token jti, created only if absent, shared by every action.

Backends implement ``seen(key)`` (the first sighting's entry or None), ``record(key, entry)`` (create if
absent; the existing entry when another sighting won) and ``prune(now, limit)`` (delete at most ``limit``
entries that expired, return how many). This module holds the local-file backend of the embedded default;
kube.deploy_records holds the cluster backend.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os

from ansible_collections.octo.platform.plugins.module_utils.auth.claims import TokenRefused
from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError

UTC = datetime.timezone.utc  # noqa: UP017 - modules also run on Python 3.9 targets (no datetime.UTC)
PRUNE_LIMIT = 100  # expired entries deleted per run at most: the cost of a run stays bounded
SCAN_LIMIT = 1000  # local entries looked at per run at most


def record_key(jti: str) -> str:
    """A fixed-length name for a jti (any string) that is safe as a file or object name."""
    return hashlib.sha256(jti.encode()).hexdigest()


def new_entry(action: str, expires: float, now: float) -> dict:
    seen = datetime.datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"action": action, "seen": seen, "expires": int(expires)}


def refuse_replay(entry: dict) -> TokenRefused:
    return TokenRefused(
        "replay",
        f"its jti was already used (first seen by action {entry.get('action', '?')} at {entry.get('seen', '?')})",
    )


def remember(store, jti: str, entry: dict, now: float, check_mode: bool) -> int:
    """Record the jti or refuse a second sighting; prune expired entries after a new record (how many)."""
    key = record_key(jti)
    if check_mode:
        earlier = store.seen(key)
        if earlier is not None:
            raise refuse_replay(earlier)
        return 0
    earlier = store.record(key, entry)
    if earlier is not None:
        raise refuse_replay(earlier)
    return store.prune(now, PRUNE_LIMIT)


class LocalReplay:
    """Entries as files of one directory, created with O_EXCL: two runs on one host never both create one."""

    def __init__(self, directory: str):
        if not directory:
            raise ValidationError("the replay records", "replay_path", "required with replay_backend=local")
        self.directory = os.path.abspath(directory)
        self.what = f"replay records in {self.directory}"

    def seen(self, key: str) -> dict | None:
        try:
            with open(os.path.join(self.directory, key), encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise OctoError("read", self.what, str(err)) from None

    def record(self, key: str, entry: dict) -> dict | None:
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            fd = os.open(os.path.join(self.directory, key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self.seen(key) or {}
        except OSError as err:
            raise OctoError("write", self.what, err.strerror or str(err)) from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entry, handle)
            handle.flush()
            os.fsync(handle.fileno())
        return None

    def prune(self, now: float, limit: int) -> int:
        pruned = 0
        with os.scandir(self.directory) as entries:
            for index, item in enumerate(entries):
                if index >= SCAN_LIMIT or pruned >= limit:
                    break
                found = self._expired(item.path, now)
                if found:
                    pruned += 1
        return pruned

    def _expired(self, path: str, now: float) -> bool:
        try:
            with open(path, encoding="utf-8") as handle:
                expires = json.load(handle).get("expires", 0)
            if expires >= now:
                return False
            os.unlink(path)
        except (OSError, ValueError, AttributeError):
            return False
        return True
