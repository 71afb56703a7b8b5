from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.gcp import dns_plan


def wanted(**single):
    return dns_plan.wanted_records({"state": "present", **single})


def test_single_record_is_normalized():
    assert wanted(name="WWW.Example.com", type="a", ttl=60, rrdatas=["192.0.2.2", "192.0.2.1"]) == [
        {"name": "www.example.com.", "type": "A", "ttl": 60, "rrdatas": ["192.0.2.1", "192.0.2.2"]}
    ]


def test_plan_replaces_with_exact_deletion_and_skips_equal():
    want = wanted(name="a.example.com", rrdatas=["192.0.2.1"])
    current = {"name": "a.example.com.", "type": "A", "ttl": 60, "rrdatas": ["192.0.2.9"]}
    assert dns_plan.plan_change(want, {("a.example.com.", "A"): current}, "present") == ([current], want)
    same = {**want[0]}
    assert dns_plan.plan_change(want, {("a.example.com.", "A"): same}, "present") == ([], [])
    assert dns_plan.plan_change(want, {}, "absent") == ([], [])


@pytest.mark.parametrize(
    "single, field",
    [({"name": "a.example.com", "type": "AAAA", "rrdatas": ["192.0.2.1"]}, "records[0].rrdatas"),
     ({"name": "a.example.com", "type": "CNAME", "rrdatas": ["x.", "y."]}, "records[0].rrdatas"),
     ({"name": "a.example.com", "type": "BOGUS", "rrdatas": ["x"]}, "records[0].type"),
     ({"name": "a.example.com", "ttl": -1, "rrdatas": ["192.0.2.1"]}, "records[0].ttl")],
)  # fmt: skip
def test_validation(single, field):
    with pytest.raises(ValidationError) as err:
        wanted(**single)
    assert err.value.field == field


def test_check_in_zone():
    dns_plan.check_in_zone(wanted(name="example.com", rrdatas=["192.0.2.1"]), "example.com.")
    with pytest.raises(ValidationError):
        dns_plan.check_in_zone(wanted(name="badexample.com", rrdatas=["192.0.2.1"]), "example.com.")
