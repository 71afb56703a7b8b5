from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.state import credentials


def test_plan_generates_once_and_never_regenerates():
    state, actions = credentials.plan(credentials.empty_state(), None, 32)
    assert actions == {name: "generated" for name in credentials.GENERATED}
    assert set(credentials.GENERATED) >= {
        "postgres_password",
        "session_secret",
        "k3s_token",
        "encryption_key",
    }
    assert all(len(v) >= 43 for v in state["credentials"].values())
    again, none = credentials.plan(state, None, 32)
    assert none == {} and again == state


def test_plan_sets_then_updates_oidc_secret_only():
    state, _ = credentials.plan(credentials.empty_state(), "a", 32)
    updated, actions = credentials.plan(state, "b", 32)
    assert actions == {"oidc_client_secret": "updated"}
    assert {k: v for k, v in updated["credentials"].items() if k != "oidc_client_secret"} == {
        k: v for k, v in state["credentials"].items() if k != "oidc_client_secret"
    }


def test_diff_shows_names_never_values():
    _state, actions = credentials.plan(credentials.empty_state(), "topsecret", 32)
    shown = str(credentials.diff(credentials.empty_state(), actions))
    assert "topsecret" not in shown and "(generated)" in shown and "(set)" in shown


@pytest.mark.parametrize("params, field", [({"secret_bytes": 31}, "secret_bytes"),
                                           ({"secret_bytes": 32, "conflict_retries": -1}, "conflict_retries")])  # fmt: skip
def test_validate(params, field):
    with pytest.raises(ValidationError) as err:
        credentials.validate(params)
    assert err.value.field == field
