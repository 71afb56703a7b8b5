"""Operation of platform_release: record the images of a deploy in the platform state and read the history."""

from __future__ import annotations

import datetime
import json

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.gcp.platform_credentials import open_store
from ansible_collections.octo.platform.plugins.module_utils.render import releases
from ansible_collections.octo.platform.plugins.module_utils.state.store import StateConflict

CONFLICT_RETRIES = 3
UTC = datetime.timezone.utc  # noqa: UP017 - datetime.UTC is 3.11+, module targets include 3.9


def ensure(params: dict, check_mode: bool = False, diff: bool = False) -> dict:
    store = open_store(params)
    for _attempt in range(CONFLICT_RETRIES + 1):
        data, generation = store.read()
        current = releases.check(json.loads(data), store.what) if data else releases.empty()
        wanted, added = current, False
        if params.get("images"):
            now = datetime.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            wanted, added = releases.record(
                current, params["images"], now, params.get("backup"), params["keep"]
            )
        result = _result(current if check_mode else wanted, added, store.what)
        if diff:
            result["diff"] = {
                "before": {"releases": current["releases"]},
                "after": {"releases": wanted["releases"]},
            }
        if check_mode or not added:
            return result
        try:
            store.write((json.dumps(wanted, indent=2, sort_keys=True) + "\n").encode(), generation)
        except StateConflict:
            continue
        return result
    raise OctoError("write", store.what, "another run kept changing it; nothing was lost, re-run")


def _result(state: dict, added: bool, where: str) -> dict:
    history = state["releases"]
    result = {
        "changed": added,
        "releases": history,
        "current": history[-1] if history else None,
        "location": where,
    }
    result["rollback"] = releases.rollback_target(state) if len(history) > 1 else None
    if result["rollback"]:
        result["rollback"]["image_settings"] = releases.images_as_settings(result["rollback"]["images"])
    return result
