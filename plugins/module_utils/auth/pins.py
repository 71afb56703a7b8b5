"""Per-action pins on a token's claims (pure): exact values, or a prefix where a claim varies per run."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError

# The claims an action may pin (GitHub Actions' OIDC claims); aud is required and exact.
PIN_CLAIMS = (
    "aud",
    "sub",
    "repository",
    "repository_owner",
    "ref",
    "workflow_ref",
    "job_workflow_ref",
    "environment",
    "event_name",
)
PREFIX_MARK = "*"  # a pin ending in * accepts any value starting with what precedes it
WHAT = "the deploy token"


@dataclass(frozen=True)
class Pin:
    claim: str
    value: str
    prefix: bool = False

    def accepts(self, actual) -> bool:
        values = actual if isinstance(actual, list) and self.claim == "aud" else [actual]
        if self.prefix:
            return any(isinstance(v, str) and v.startswith(self.value) for v in values)
        return any(v == self.value for v in values)

    def __str__(self) -> str:
        return f"'{self.value}{PREFIX_MARK}' (prefix)" if self.prefix else f"'{self.value}'"


def parse_pins(pins) -> tuple[Pin, ...]:
    """The pins of one action, validated: a dict of claim -> value with aud among them."""
    if not isinstance(pins, dict) or "aud" not in pins:
        raise ValidationError(WHAT, "pins", "must be a dict of claim values that includes aud")
    parsed = []
    for claim, value in sorted(pins.items()):
        if claim not in PIN_CLAIMS:
            raise ValidationError(WHAT, f"pins.{claim}", f"unknown claim; pin one of {', '.join(PIN_CLAIMS)}")
        if not isinstance(value, str) or not value.rstrip(PREFIX_MARK):
            raise ValidationError(WHAT, f"pins.{claim}", "must be a non-empty string")
        prefix = value.endswith(PREFIX_MARK)
        if prefix and claim == "aud":
            raise ValidationError(WHAT, "pins.aud", "must be exact (no prefix)")
        parsed.append(Pin(claim, value[:-1] if prefix else value, prefix))
    return tuple(parsed)


def first_mismatch(pins: tuple[Pin, ...], claims: dict) -> tuple[str, str] | None:
    """(claim, reason) of the first pin the claims do not satisfy, or None when all hold (aud first)."""
    for pin in sorted(pins, key=lambda p: p.claim != "aud"):
        if pin.claim not in claims:
            return pin.claim, f"claim {pin.claim} is missing; this action requires {pin}"
        if not pin.accepts(claims[pin.claim]):
            return pin.claim, f"claim {pin.claim} is {claims[pin.claim]!r}; this action requires {pin}"
    return None


ACTION_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")


def require_action(action, what: str) -> str:
    """An action name: a DNS label of at most 40 characters (it names cluster objects)."""
    if not isinstance(action, str) or not ACTION_PATTERN.match(action):
        raise ValidationError(what, "action", "must be lowercase letters, digits and '-' (at most 40)")
    return action
