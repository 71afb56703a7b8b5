"""Release history: record once per image set, keep N, the rollback target and its backup."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import releases

V1 = {"editor": {"repository": "ghcr.io/o/editor", "tag": "v1"}, "orchestrator": "ghcr.io/o/orch:v1"}
V2 = {
    "editor": {"repository": "ghcr.io/o/editor", "tag": "v2"},
    "orchestrator": {"repository": "r:5000/o", "digest": "sha256:ab"},
}


def test_record_rollback_target_and_settings():
    state, added = releases.record(releases.empty(), V1, "t1", None, keep=5)
    assert added and state["releases"][0]["images"] == {
        "editor": "ghcr.io/o/editor:v1",
        "orchestrator": "ghcr.io/o/orch:v1",
    }
    assert releases.record(state, V1, "t1b", "b", keep=5) == (state, False)  # same images: nothing recorded
    state, _ = releases.record(state, V2, "t2", "backups/octo/20260101T000000Z.dump.enc", keep=5)
    target = releases.rollback_target(state)
    assert target["number"] == 1 and target["restore_backup"] == "backups/octo/20260101T000000Z.dump.enc"
    assert releases.images_as_settings(state["releases"][-1]["images"]) == {
        "editor": {"repository": "ghcr.io/o/editor", "tag": "v2"},
        "orchestrator": {"repository": "r:5000/o", "digest": "sha256:ab"},
    }


def test_keep_drops_the_oldest_and_errors_are_clear():
    state = releases.empty()
    for n in range(5):
        state, _ = releases.record(state, {"editor": f"e:{n}"}, f"t{n}", None, keep=3)
    assert [r["number"] for r in state["releases"]] == [3, 4, 5]
    with pytest.raises(ValidationError, match="no release before the current one"):
        releases.rollback_target(releases.record(releases.empty(), V1, "t", None, 3)[0])
    with pytest.raises(ValidationError, match="keep: must be 2 or more"):
        releases.record(state, V1, "t", None, keep=1)
    with pytest.raises(ValidationError, match="unsupported release history"):
        releases.check({"version": 9}, "x")
