"""The local replay records: create if absent (O_EXCL), refusal naming the first sighting, bounded pruning."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.octo.platform.plugins.module_utils.auth import replay
from ansible_collections.octo.platform.plugins.module_utils.auth.claims import TokenRefused


def test_second_sighting_refused_across_stores(tmp_path):
    entry = replay.new_entry("deploy", expires=2000, now=1000)
    assert replay.remember(replay.LocalReplay(str(tmp_path)), "jti-1", entry, 1000, check_mode=False) == 0
    again = replay.LocalReplay(str(tmp_path))  # another process, same directory
    with pytest.raises(TokenRefused) as err:
        replay.remember(again, "jti-1", replay.new_entry("plan", 2000, 1001), 1001, check_mode=False)
    assert err.value.refusal == "replay" and "first seen by action deploy at 1970-01-01T00:16:40Z" in str(
        err.value
    )


def test_check_mode_records_nothing_but_refuses_a_replay(tmp_path):
    store = replay.LocalReplay(str(tmp_path / "r"))
    entry = replay.new_entry("deploy", 2000, 1000)
    replay.remember(store, "jti-1", entry, 1000, check_mode=True)
    assert not (tmp_path / "r").exists()
    replay.remember(store, "jti-1", entry, 1000, check_mode=False)
    with pytest.raises(TokenRefused):
        replay.remember(store, "jti-1", entry, 1000, check_mode=True)


def test_record_names_are_hashes_and_files_private(tmp_path):
    store = replay.LocalReplay(str(tmp_path))
    replay.remember(store, "../../etc/passwd", replay.new_entry("deploy", 2000, 1000), 1000, check_mode=False)
    (name,) = os.listdir(tmp_path)
    assert name == replay.record_key("../../etc/passwd") and len(name) == 64
    assert os.stat(tmp_path / name).st_mode & 0o777 == 0o600


def test_prune_deletes_expired_entries_up_to_the_limit(tmp_path):
    store = replay.LocalReplay(str(tmp_path))
    for index in range(5):
        store.record(f"old{index}", {"action": "deploy", "expires": 100})
    store.record("live", {"action": "deploy", "expires": 5000})
    (tmp_path / "junk").write_text("not json")
    assert store.prune(now=1000, limit=3) == 3
    assert store.prune(now=1000, limit=100) == 2
    assert sorted(os.listdir(tmp_path)) == ["junk", "live"]
    assert json.loads((tmp_path / "live").read_text())["expires"] == 5000


def test_new_record_prunes_expired(tmp_path):
    store = replay.LocalReplay(str(tmp_path))
    store.record("old", {"action": "deploy", "expires": 10})
    assert replay.remember(store, "new", replay.new_entry("deploy", 5000, 1000), 1000, check_mode=False) == 1
