"""Per-action pins: exact values, prefixes, aud required and exact, the first mismatch named."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.auth.pins import (
    first_mismatch,
    parse_pins,
    require_action,
)
from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError

WORKFLOW = "octo/integrations/.github/workflows/plan.yml@"


def test_exact_and_prefix_pins():
    pins = parse_pins({"aud": "octo-plan", "workflow_ref": WORKFLOW + "*"})
    claims = {"aud": "octo-plan", "workflow_ref": WORKFLOW + "refs/pull/7/merge"}
    assert first_mismatch(pins, claims) is None
    claims["workflow_ref"] = "octo/integrations/.github/workflows/deploy.yml@refs/heads/main"
    claim, reason = first_mismatch(pins, claims)
    assert claim == "workflow_ref" and f"'{WORKFLOW}*' (prefix)" in reason


def test_aud_checked_first_and_lists_accepted():
    pins = parse_pins({"repository": "octo/integrations", "aud": "octo-deploy"})
    assert first_mismatch(pins, {"aud": ["other", "octo-deploy"], "repository": "octo/integrations"}) is None
    claim, reason = first_mismatch(pins, {"aud": "other", "repository": "mallory/fork"})
    assert claim == "aud" and reason == "claim aud is 'other'; this action requires 'octo-deploy'"


def test_missing_claim_named():
    pins = parse_pins({"aud": "a", "ref": "refs/heads/main"})
    assert first_mismatch(pins, {"aud": "a"}) == (
        "ref",
        "claim ref is missing; this action requires 'refs/heads/main'",
    )


@pytest.mark.parametrize(
    ("pins", "field", "words"),
    [
        ({"repository": "x"}, "pins", "includes aud"),
        ("aud=x", "pins", "must be a dict"),
        ({"aud": "x", "branch": "main"}, "pins.branch", "unknown claim"),
        ({"aud": "x", "ref": ""}, "pins.ref", "non-empty"),
        ({"aud": "x", "ref": "*"}, "pins.ref", "non-empty"),
        ({"aud": "x", "ref": 3}, "pins.ref", "non-empty"),
        ({"aud": "octo-*"}, "pins.aud", "exact"),
    ],
)
def test_bad_pins_refused(pins, field, words):
    with pytest.raises(ValidationError) as err:
        parse_pins(pins)
    assert err.value.field == field and words in str(err.value)
    assert str(err.value).startswith("Failed to validate the deploy token: ")


@pytest.mark.parametrize("name", ["deploy", "tf-plan", "a", "x" * 40])
def test_action_names(name):
    assert require_action(name, "x") == name


@pytest.mark.parametrize("name", ["", "Deploy", "-x", "x-", "a_b", "x" * 41, None])
def test_bad_action_names(name):
    with pytest.raises(ValidationError):
        require_action(name, "x")
