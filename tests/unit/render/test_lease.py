"""The deploy lock's decisions on a Lease: take, renew, take over after the TTL, busy; the Lease written."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render import lease

NOW = 1_800_000_000.0


def served(holder: str, renewed: float, ttl: int = 60, acquired: float | None = None, transitions: int = 0):
    return {
        "metadata": {"name": lease.LOCK_NAME, "resourceVersion": "42"},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": ttl,
            "acquireTime": lease.microtime(acquired or renewed),
            "renewTime": lease.microtime(renewed),
            "leaseTransitions": transitions,
        },
    }


@pytest.mark.parametrize(
    ("obj", "decision"),
    [
        (None, "take"),
        ({"spec": {}}, "take"),
        (served("me", NOW - 10), "renew"),
        (served("me", NOW - 600), "renew"),
        (served("other", NOW - 10), "busy"),
        (served("other", NOW - 60), "takeover"),
        (served("other", NOW - 61), "takeover"),
    ],
)
def test_decide(obj, decision):
    assert lease.decide(lease.holding(obj), "me", NOW) == decision


def test_microtime_round_trip():
    held = lease.holding(served("x", NOW + 0.25))
    assert held.renewed == NOW + 0.25 and held.expires() == NOW + 60.25


def test_takeover_counts_a_transition_and_is_conditional():
    current_obj = served("other", NOW - 100, transitions=2)
    obj = lease.lease_object("ns", "me", 30, NOW, lease.holding(current_obj), current_obj)
    assert obj["metadata"]["resourceVersion"] == "42"
    assert obj["spec"] == {
        "holderIdentity": "me",
        "leaseDurationSeconds": 30,
        "acquireTime": lease.microtime(NOW),
        "renewTime": lease.microtime(NOW),
        "leaseTransitions": 3,
    }


def test_renewal_keeps_acquire_time():
    current_obj = served("me", NOW - 20, acquired=NOW - 500, transitions=1)
    spec = lease.lease_object("ns", "me", 30, NOW, lease.holding(current_obj), current_obj)["spec"]
    assert spec["acquireTime"] == lease.microtime(NOW - 500) and spec["renewTime"] == lease.microtime(NOW)
    assert spec["leaseTransitions"] == 1


def test_describe_names_holder_and_expiry():
    held = lease.holding(served("ci run 7", NOW - 20, acquired=NOW - 45))
    assert lease.describe(held, NOW) == "ci run 7 (held 45s, expires in 40s)"
