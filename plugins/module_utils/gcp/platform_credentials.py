"""Operation of platform_credentials: keep the platform secrets in one encrypted state object."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import gcp_auth_params
from ansible_collections.octo.platform.plugins.module_utils.gcp.gcs_state_store import GcsStore
from ansible_collections.octo.platform.plugins.module_utils.state import credentials, envelope
from ansible_collections.octo.platform.plugins.module_utils.state.local_store import LocalStore
from ansible_collections.octo.platform.plugins.module_utils.state.store import StateConflict

CONTEXT = "octo.platform/platform_credentials/v1"


def open_store(params: dict):
    if params.get("backend") == "gcs":
        return GcsStore(gcp_auth_params(params), params.get("bucket"), params.get("object_name"))
    return LocalStore(params.get("path"))


def ensure(params: dict, check_mode: bool = False, diff: bool = False) -> dict:
    credentials.validate(params)
    key = envelope.parse_key(params.get("encryption_key"))
    store = open_store(params)
    conflicts = 0
    for _attempt in range(params.get("conflict_retries", 3) + 1):
        data, generation = store.read()
        current = envelope.decrypt(key, data, CONTEXT, store.what) if data else credentials.empty_state()
        current = credentials.check_state(current, store.what)
        wanted, actions = credentials.plan(current, params.get("oidc_client_secret"), params["secret_bytes"])
        loose = isinstance(store, LocalStore) and store.loose_mode()
        result = {
            "changed": bool(actions) or loose,
            "credentials": (current if check_mode else wanted)["credentials"],
            "actions": actions,
            "conflicts": conflicts,
            "location": store.what,
        }
        if diff:
            result["diff"] = credentials.diff(current, actions)
        if check_mode:
            return result
        if loose:
            store.tighten()
        if not actions:
            return result
        try:
            store.write(envelope.encrypt(key, wanted, CONTEXT), generation)
        except StateConflict:
            conflicts += 1
            continue
        return result
    raise OctoError(
        "write",
        store.what,
        f"another run changed it {conflicts} times while this one tried to update it; nothing was lost, re-run",
        conflicts=conflicts,
    )
