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


LONG_KEY = "v=DKIM1; k=rsa; p=" + "A" * 400


@pytest.mark.parametrize(
    "rtype, given, stored",
    [("TXT", "v=spf1 include:_spf.example.net ~all", '"v=spf1 include:_spf.example.net ~all"'),
     ("TXT", '"v=spf1 -all"', '"v=spf1 -all"'),
     ("TXT", '"one"  "two three"', '"one" "two three"'),
     ("TXT", 'say "hi" \\ bye', '"say \\"hi\\" \\\\ bye"'),
     ("TXT", "héllo", '"h\\195\\169llo"'),
     ("TXT", LONG_KEY, f'"{LONG_KEY[:255]}" "{LONG_KEY[255:]}"'),
     ("TXT", f'"{LONG_KEY[:100]}" "{LONG_KEY[100:]}"', f'"{LONG_KEY[:100]}" "{LONG_KEY[100:355]}" "{LONG_KEY[355:]}"'),
     ("SPF", "v=spf1 -all", '"v=spf1 -all"'),
     ("MX", "010  Mail.Example.com", "10 mail.example.com."),
     ("MX", "0 .", "0 ."),
     ("CAA", "0 issue letsencrypt.org", '0 issue "letsencrypt.org"'),
     ("CAA", '128 IODEF "mailto:sec@example.com"', '128 iodef "mailto:sec@example.com"'),
     ("CNAME", "Target.Example.com", "target.example.com."),
     ("NS", "ns1.example.net.", "ns1.example.net."),
     ("PTR", "host.example.com", "host.example.com."),
     ("SRV", "10 05 5060 SIP.example.com", "10 5 5060 sip.example.com."),
     ("AAAA", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
     ("SOA", "ns1.example.com.  admin.example.com. 1 2 3 4 5", "ns1.example.com. admin.example.com. 1 2 3 4 5")],
)  # fmt: skip
def test_rrdatas_take_the_form_cloud_dns_returns(rtype, given, stored):
    assert wanted(name="example.com", type=rtype, rrdatas=[given])[0]["rrdatas"] == [stored]


def test_values_equal_once_canonical_are_one_value():
    records = wanted(name="example.com", type="MX", rrdatas=["10 mail.example.com", "10 Mail.Example.com."])
    assert records[0]["rrdatas"] == ["10 mail.example.com."]


def test_wanted_in_user_form_equals_what_cloud_dns_returned():
    as_returned = {
        ("example.com.", "TXT"): {"name": "example.com.", "type": "TXT", "ttl": 300, "rrdatas": ['"v=spf1 -all"']},
        ("example.com.", "MX"): {"name": "example.com.", "type": "MX", "ttl": 300, "rrdatas": ["10 mail.example.com."]},
        ("example.com.", "CAA"): {"name": "example.com.", "type": "CAA", "ttl": 300, "rrdatas": ['0 issue "letsencrypt.org"']},
    }  # fmt: skip
    records = dns_plan.wanted_records(
        {"state": "present", "records": [
            {"name": "example.com", "type": "TXT", "rrdatas": ["v=spf1 -all"]},
            {"name": "example.com", "type": "MX", "rrdatas": ["10 mail.example.com"]},
            {"name": "example.com", "type": "CAA", "rrdatas": ["0 issue letsencrypt.org"]},
        ]}
    )  # fmt: skip
    assert dns_plan.plan_change(records, as_returned, "present") == ([], [])


def test_actual_data_is_compared_in_canonical_form():
    record = wanted(name="example.com", type="AAAA", rrdatas=["2001:db8::1"])
    other_form = {"name": "example.com.", "type": "AAAA", "ttl": 300, "rrdatas": ["2001:DB8:0::1"]}
    assert dns_plan.plan_change(record, {("example.com.", "AAAA"): other_form}, "present") == ([], [])
    split = {"name": "example.com.", "type": "TXT", "ttl": 300, "rrdatas": ['"v=spf1" "-all"']}
    txt = wanted(name="example.com", type="TXT", rrdatas=["v=spf1 -all"])
    assert dns_plan.plan_change(txt, {("example.com.", "TXT"): split}, "present") == ([split], txt)


@pytest.mark.parametrize(
    "rtype, value, reason",
    [("MX", "mail.example.com", "expected <preference> <host>"),
     ("MX", "70000 mail.example.com", "number from 0 to 65535"),
     ("SRV", "10 5 sip.example.com", "expected <priority> <weight> <port> <target>"),
     ("CAA", "issue letsencrypt.org", 'expected <flags> <tag> "<value>"'),
     ("CAA", '0 issue "a" "b"', "one string"),
     ("TXT", '"unbalanced', "unbalanced quotes"),
     ("CNAME", "two words", "not a domain name"),
     ("A", "2001:db8::1", "not an IPv4 address")],
)  # fmt: skip
def test_bad_rrdatas_name_the_value_and_the_reason(rtype, value, reason):
    with pytest.raises(ValidationError) as err:
        wanted(name="example.com", type=rtype, rrdatas=[value])
    assert err.value.field == "records[0].rrdatas"
    assert f"{value!r} is not a valid {rtype} value: " in str(err.value) and reason in str(err.value)
