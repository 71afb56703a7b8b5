"""cloud_dns_record through google-cloud-dns against the local Cloud DNS double."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from gcp_support import PROJECT, module_params
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import DNS_RECORD
from ansible_collections.octo.platform.plugins.module_utils.gcp.dns_records import converge

ZONE = "octo-zone"
APEX = "example.test."
WILDCARD = "*.example.test."


def params(fake_dns, records, **extra):
    return module_params(
        DNS_RECORD,
        project=PROJECT,
        auth_kind="anonymous",
        dns_endpoint=fake_dns.url,
        managed_zone=ZONE,
        records=records,
        wait_sleep=0.05,
        **extra,
    )


def platform_records(ip="203.0.113.10", ttl=300):
    return [
        {"name": "example.test", "type": "A", "ttl": ttl, "rrdatas": [ip]},
        {"name": "*.example.test", "type": "A", "ttl": ttl, "rrdatas": [ip]},
    ]


def test_four_runs_check_apply_check_apply(fake_dns):
    p = params(fake_dns, platform_records())
    runs = [converge(p, check_mode=check, diff=True) for check in (True, False, True, False)]
    assert [r["changed"] for r in runs] == [True, True, False, False]
    assert runs[0]["additions"] == runs[1]["additions"]  # check mode predicted the real change
    assert runs[1]["status"] == "done"
    assert set(runs[0]["diff"]["after"]) == {f"{APEX} A", f"{WILDCARD} A"}
    assert runs[2]["diff"] == {"before": {}, "after": {}}
    posts = fake_dns.change_posts()
    assert len(posts) == 1  # apex + wildcard in one Change
    assert {r["name"] for r in posts[0]["additions"]} == {APEX, WILDCARD}
    assert fake_dns.get(PROJECT, ZONE, WILDCARD, "A")["rrdatas"] == ["203.0.113.10"]


def test_replace_data_and_ttl_in_one_change(fake_dns):
    converge(params(fake_dns, platform_records()))
    result = converge(params(fake_dns, platform_records(ip="198.51.100.7", ttl=60)), diff=True)
    assert result["changed"]
    last = fake_dns.change_posts()[-1]
    assert len(fake_dns.change_posts()) == 2
    assert sorted(r["name"] for r in last["deletions"]) == sorted([APEX, WILDCARD])
    assert all(r["ttl"] == 300 and r["rrdatas"] == ["203.0.113.10"] for r in last["deletions"])
    assert all(r["ttl"] == 60 and r["rrdatas"] == ["198.51.100.7"] for r in last["additions"])
    assert result["diff"]["before"][f"{APEX} A"] == {"ttl": 300, "rrdatas": ["203.0.113.10"]}
    assert result["diff"]["after"][f"{APEX} A"] == {"ttl": 60, "rrdatas": ["198.51.100.7"]}


DKIM = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 8


def mail_records():
    """TXT, MX and CAA sets written the way people write them (no quotes, no trailing dots, mixed case)."""
    return [
        {"name": "example.test", "type": "TXT", "rrdatas": ["v=spf1 include:_spf.example.net ~all"]},
        {"name": "sel._domainkey.example.test", "type": "TXT", "rrdatas": [DKIM]},
        {"name": "example.test", "type": "MX", "rrdatas": ["10 Mail.Example.test", "20 mail2.example.test."]},
        {"name": "Example.Test.", "type": "CAA", "rrdatas": ["0 issue letsencrypt.org", '0 iodef "mailto:sec@example.test"']},
    ]  # fmt: skip


def test_txt_mx_caa_are_idempotent(fake_dns):
    p = params(fake_dns, mail_records())
    runs = [converge(p, check_mode=check, diff=True) for check in (True, False, True, False)]
    assert [r["changed"] for r in runs] == [True, True, False, False]
    assert runs[0]["additions"] == runs[1]["additions"]  # check mode predicted the real change
    assert runs[2]["diff"] == {"before": {}, "after": {}}
    assert len(fake_dns.change_posts()) == 1
    stored = {t: fake_dns.get(PROJECT, ZONE, APEX, t)["rrdatas"] for t in ("TXT", "MX", "CAA")}
    assert stored == {
        "TXT": ['"v=spf1 include:_spf.example.net ~all"'],  # one string, not three
        "MX": ["10 mail.example.test.", "20 mail2.example.test."],
        "CAA": ['0 iodef "mailto:sec@example.test"', '0 issue "letsencrypt.org"'],
    }
    dkim = fake_dns.get(PROJECT, ZONE, "sel._domainkey.example.test.", "TXT")["rrdatas"]
    assert dkim == [f'"{DKIM[:255]}" "{DKIM[255:]}"']  # split into 255-byte strings


def test_txt_stored_as_separate_words_is_replaced(fake_dns):
    # Another writer sent the SPF value unquoted: Cloud DNS keeps each word as its own string, which
    # resolvers concatenate without spaces. The module wants one string, so it replaces the set.
    fake_dns.put(PROJECT, ZONE, APEX, "TXT", 300, ["v=spf1 -all"])
    assert fake_dns.get(PROJECT, ZONE, APEX, "TXT")["rrdatas"] == ['"v=spf1" "-all"']
    p = params(fake_dns, [{"name": APEX, "type": "TXT", "rrdatas": ["v=spf1 -all"]}])
    assert converge(p)["changed"]
    assert fake_dns.get(PROJECT, ZONE, APEX, "TXT")["rrdatas"] == ['"v=spf1 -all"']
    assert not converge(p)["changed"]


def post_change(fake_dns, additions: list[dict]) -> dict:
    request = urllib.request.Request(
        f"{fake_dns.url}/dns/v1/projects/{PROJECT}/managedZones/{ZONE}/changes",
        data=json.dumps({"additions": additions}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def test_double_stores_what_cloud_dns_returns(fake_dns):
    change = post_change(fake_dns, [
        {"name": "WWW.Example.test", "type": "CNAME", "ttl": 60, "rrdatas": ["Front.Example.net"]},
        {"name": "example.test.", "type": "TXT", "ttl": 60, "rrdatas": ['v=spf1 "quoted part" -all', "k" * 300]},
        {"name": "example.test.", "type": "MX", "ttl": 60, "rrdatas": ["010 Mail.example.test"]},
        {"name": "example.test.", "type": "CAA", "ttl": 60, "rrdatas": ["0 ISSUE letsencrypt.org"]},
        {"name": "_sip._tcp.example.test.", "type": "SRV", "ttl": 60, "rrdatas": ["10 05 5060 SIP.example.test"]},
    ])  # fmt: skip
    assert change["additions"][0]["name"] == "www.example.test."
    assert fake_dns.get(PROJECT, ZONE, "www.example.test.", "CNAME")["rrdatas"] == ["front.example.net."]
    # unquoted words are separate strings; a string longer than 255 bytes is split
    assert fake_dns.get(PROJECT, ZONE, APEX, "TXT")["rrdatas"] == [
        '"v=spf1" "quoted part" "-all"', f'"{"k" * 255}" "{"k" * 45}"',
    ]  # fmt: skip
    assert fake_dns.get(PROJECT, ZONE, APEX, "MX")["rrdatas"] == ["10 mail.example.test."]
    assert fake_dns.get(PROJECT, ZONE, APEX, "CAA")["rrdatas"] == ['0 issue "letsencrypt.org"']
    assert fake_dns.get(PROJECT, ZONE, "_sip._tcp.example.test.", "SRV")["rrdatas"] == [
        "10 5 5060 sip.example.test."
    ]
    with pytest.raises(urllib.error.HTTPError) as err:
        post_change(
            fake_dns,
            [{"name": "mx.example.test.", "type": "MX", "ttl": 60, "rrdatas": ["mail.example.test."]}],
        )
    assert err.value.code == 400 and "rrdata[0]" in json.loads(err.value.read())["error"]["message"]


def test_stale_deletion_is_reread_and_retried(fake_dns):
    converge(params(fake_dns, platform_records()))
    # Another writer changes the apex right after our read: our exact-match deletion is stale (412).
    fake_dns.after_list = lambda: fake_dns.put(PROJECT, ZONE, APEX, "A", 120, ["192.0.2.99"])
    result = converge(params(fake_dns, platform_records(ip="198.51.100.7")))
    assert len(result["conflicts"]) == 1 and "412" in result["conflicts"][0]
    assert fake_dns.get(PROJECT, ZONE, APEX, "A") == {
        "kind": "dns#resourceRecordSet", "name": APEX, "type": "A", "ttl": 300, "rrdatas": ["198.51.100.7"],
    }  # fmt: skip
    assert {"name": APEX, "type": "A", "ttl": 120, "rrdatas": ["192.0.2.99"]} in result["deletions"]


def test_existing_record_on_add_is_reread_and_retried(fake_dns):
    fake_dns.after_list = lambda: fake_dns.put(PROJECT, ZONE, APEX, "A", 300, ["192.0.2.1"])
    result = converge(params(fake_dns, platform_records()[:1]))
    assert len(result["conflicts"]) == 1 and "409" in result["conflicts"][0]
    assert fake_dns.get(PROJECT, ZONE, APEX, "A")["rrdatas"] == ["203.0.113.10"]


def test_retries_are_bounded(fake_dns):
    converge(params(fake_dns, platform_records()))
    flips = iter(range(100))

    def keep_changing():
        fake_dns.put(PROJECT, ZONE, APEX, "A", 100 + next(flips), ["192.0.2.1"])
        fake_dns.after_list = keep_changing

    fake_dns.after_list = keep_changing
    with pytest.raises(OctoError, match="gave up after 3 attempts"):
        converge(params(fake_dns, platform_records(ip="198.51.100.7"), retries=2))
    assert len(fake_dns.change_posts()) == 1  # only the first, successful Change went through


def test_absent_deletes_whatever_is_there(fake_dns):
    converge(params(fake_dns, platform_records()))
    p = params(fake_dns, [{"name": "*.example.test", "type": "A"}], state="absent")
    assert converge(p, check_mode=True)["changed"]
    assert fake_dns.get(PROJECT, ZONE, WILDCARD, "A") is not None
    assert converge(p)["changed"]
    assert fake_dns.get(PROJECT, ZONE, WILDCARD, "A") is None
    assert not converge(p)["changed"]


@pytest.mark.parametrize(
    "records, field",
    [
        ([{"name": "example.test", "rrdatas": ["not-an-ip"]}], "records[0].rrdatas"),
        ([{"name": "other.test", "rrdatas": ["192.0.2.1"]}], "records[0].name"),
        ([{"name": "example.test", "rrdatas": []}], "records[0].rrdatas"),
        ([{"name": "example.test", "rrdatas": ["192.0.2.1"]}] * 2, "records[1]"),
        ([{"name": "example.test", "type": "MX", "rrdatas": ["mail.example.test"]}], "records[0].rrdatas"),
        (
            [{"name": "example.test", "type": "CAA", "rrdatas": ["issue letsencrypt.org"]}],
            "records[0].rrdatas",
        ),
    ],
)
def test_bad_input_fails_before_any_write(fake_dns, records, field):
    with pytest.raises(ValidationError) as err:
        converge(params(fake_dns, records))
    assert err.value.field == field
    assert fake_dns.change_posts() == []


def test_unknown_zone_is_a_clear_error(fake_dns):
    p = params(fake_dns, platform_records())
    p["managed_zone"] = "missing-zone"
    with pytest.raises(OctoError, match="Failed to find managed zone missing-zone: it does not exist"):
        converge(p)


def test_through_ansible_playbook(fake_dns, dns_env):
    task = {
        "name": "records",
        "octo.platform.cloud_dns_record": {
            "managed_zone": ZONE,
            "records": platform_records() + mail_records(),
            "wait_sleep": 0.1,
        },
    }
    runs = [run_tasks([task], check=check, diff=True, env=dns_env) for check in (True, False, True, False)]
    assert all(run.rc == 0 for run in runs), [run.output for run in runs]
    assert [run.task("records")["status"] for run in runs] == ["changed", "changed", "ok", "ok"]
    for run in runs[:2]:  # the diff names the touched sets; no diff once nothing changes
        assert f'"{WILDCARD} A"' in run.output and f'"{APEX} CAA"' in run.output, run.output
    assert all(f'"{WILDCARD} A"' not in run.output for run in runs[2:])
    assert len(fake_dns.change_posts()) == 1
    assert fake_dns.get(PROJECT, ZONE, APEX, "A")["rrdatas"] == ["203.0.113.10"]
    assert fake_dns.get(PROJECT, ZONE, APEX, "CAA")["rrdatas"][1] == '0 issue "letsencrypt.org"'


def test_dns_role_writes_apex_and_wildcard(fake_dns, dns_env):
    role = {
        "name": "dns role",
        "ansible.builtin.include_role": {"name": "octo.platform.dns"},
        "vars": {"dns_domain": "example.test", "dns_managed_zone": ZONE, "dns_static_ip": "203.0.113.20"},
    }
    first = run_tasks([role], env=dns_env, diff=True)
    assert first.rc == 0, first.output
    second = run_tasks([role], env=dns_env)
    assert second.rc == 0, second.output
    assert "changed" in first.statuses() and "changed" not in second.statuses()
    assert len(fake_dns.change_posts()) == 1
    for name in (APEX, WILDCARD):
        assert fake_dns.get(PROJECT, ZONE, name, "A")["rrdatas"] == ["203.0.113.20"]
    bad = run_tasks([{**role, "vars": {**role["vars"], "dns_static_ip": "not-an-ip"}}], env=dns_env)
    assert bad.rc != 0 and len(fake_dns.change_posts()) == 1
