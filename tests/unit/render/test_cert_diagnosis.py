"""Why a Certificate is not Ready, from the status cert-manager writes (its documented condition types/reasons)."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render import cert_diagnosis as cd


def obj(kind, name, owner=None, status=None, spec=None, annotations=None):
    metadata = {"name": name, "namespace": "octo"}
    if owner:
        metadata["ownerReferences"] = [{"kind": owner[0], "name": owner[1]}]
    if annotations:
        metadata["annotations"] = annotations
    return {"kind": kind, "metadata": metadata, "status": status or {}, "spec": spec or {}}


def conditions(*items):
    return {"conditions": [{"type": t, "status": s, "reason": r, "message": m} for t, s, r, m in items]}


def family(
    challenge_status,
    challenge_type="DNS-01",
    wildcard=True,
    order_status=None,
    request_status=None,
    host="example.com",
):
    certificate = obj(
        "Certificate",
        "wild",
        status=conditions(("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist")),
    )
    request = obj(
        "CertificateRequest",
        "wild-1",
        ("Certificate", "wild"),
        request_status
        if request_status is not None
        else conditions(
            ("Approved", "True", "cert-manager.io", "approved"),
            (
                "Ready",
                "False",
                "Pending",
                'Waiting on certificate issuance from order octo/wild-1-1: "pending"',
            ),
        ),
    )
    order = obj("Order", "wild-1-1", ("CertificateRequest", "wild-1"), order_status or {"state": "pending"})
    challenge = obj(
        "Challenge",
        "wild-1-1-2",
        ("Order", "wild-1-1"),
        challenge_status,
        {"type": challenge_type, "dnsName": host, "wildcard": wildcard},
    )
    stray = obj("Challenge", "other", ("Order", "someone-else"), {"state": "invalid", "reason": "x"})
    return cd.related(
        {
            "Certificate": certificate,
            "CertificateRequest": [request],
            "Order": [order],
            "Challenge": [challenge, stray],
        }
    )


def test_dns01_not_yet_propagated():
    lines = cd.diagnose(
        family(
            {
                "presented": True,
                "processing": True,
                "state": "pending",
                "reason": 'Waiting for DNS-01 challenge propagation: DNS record for "example.com" not yet propagated',
            }
        )
    )
    assert (
        lines[0]
        == "Certificate octo/wild not ready: DoesNotExist: Issuing certificate as Secret does not exist"
    )
    assert (
        'CertificateRequest wild-1 pending: Waiting on certificate issuance from order octo/wild-1-1: "pending"'
        in lines
    )
    assert lines[-1] == "Challenge for *.example.com pending: DNS record not yet propagated"
    assert not any("other" in line for line in lines)  # only the Certificate's own family


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (
            "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'",
            "HTTP-01 self check failed for app.example.com: 404",
        ),
        (
            "Waiting for HTTP-01 challenge propagation: failed to perform self check GET request "
            "'http://app.example.com/.well-known/acme-challenge/x': dial tcp 1.2.3.4:80: connect: connection refused",
            "HTTP-01 self check failed for app.example.com: dial tcp 1.2.3.4:80: connect: connection refused",
        ),
    ],
)
def test_http01_self_check(reason, expected):
    lines = cd.diagnose(
        family(
            {"presented": True, "state": "pending", "reason": reason},
            "HTTP-01",
            False,
            host="app.example.com",
        )
    )
    assert lines[-1] == expected


def test_challenge_not_presented_and_invalid():
    not_presented = family(
        {
            "presented": False,
            "state": "pending",
            "reason": "error getting clouddns service account: secret not found",
        }
    )
    assert cd.diagnose(not_presented)[-1] == (
        "Challenge for *.example.com (DNS-01) not presented yet: error getting clouddns service account: secret not found"
    )
    invalid = family(
        {
            "presented": True,
            "state": "invalid",
            "reason": "Error accepting authorization: acme: urn:ietf:params:acme:error:unauthorized",
        }
    )
    assert cd.diagnose(invalid)[-1] == (
        "Challenge for *.example.com (DNS-01) invalid: Error accepting authorization: acme: urn:ietf:params:acme:error:unauthorized"
    )


def test_order_errored_and_request_failed_or_denied():
    errored = family(
        {"state": "valid"},
        order_status={"state": "errored", "reason": "429 urn:ietf:params:acme:error:rateLimited"},
    )
    assert "Order wild-1-1 errored: 429 urn:ietf:params:acme:error:rateLimited" in cd.diagnose(errored)
    failed = family(
        {"state": "valid"},
        request_status=conditions(
            ("Ready", "False", "Failed", "Failed to wait for order resource to become ready")
        ),
    )
    assert (
        "CertificateRequest wild-1 failed: Failed to wait for order resource to become ready"
        in cd.diagnose(failed)
    )
    denied = family(
        {"state": "valid"}, request_status=conditions(("Denied", "True", "policy", "not allowed"))
    )
    assert "CertificateRequest wild-1 denied: policy: not allowed" in cd.diagnose(denied)
    unapproved = family({"state": "valid"}, request_status={})
    assert "CertificateRequest wild-1 not approved yet (is the approver running?)" in cd.diagnose(unapproved)


def test_certificate_without_conditions_or_missing_or_ready():
    assert cd.diagnose({"Certificate": None}) == ["Certificate does not exist"]
    bare = {"Certificate": obj("Certificate", "wild")}
    assert cd.diagnose(bare) == [
        "Certificate octo/wild not ready: no Ready condition yet (is cert-manager running?)"
    ]
    ready = {"Certificate": obj("Certificate", "wild", status=conditions(("Ready", "True", "Ready", "ok")))}
    assert cd.diagnose(ready) == []
    failed = obj(
        "Certificate",
        "wild",
        status=conditions(
            ("Ready", "False", "DoesNotExist", "no secret"),
            ("Issuing", "False", "Failed", "The certificate request has failed"),
        ),
    )
    assert "Certificate octo/wild issuance failed: The certificate request has failed" in cd.diagnose(
        {"Certificate": failed}
    )


def test_latest_request_revision_explains():
    certificate = obj("Certificate", "wild", status=conditions(("Ready", "False", "Issuing", "renewing")))
    old = obj(
        "CertificateRequest",
        "wild-1",
        ("Certificate", "wild"),
        conditions(("Ready", "False", "Failed", "old failure")),
        annotations={"cert-manager.io/certificate-revision": "1"},
    )
    new = obj(
        "CertificateRequest",
        "wild-2",
        ("Certificate", "wild"),
        conditions(("Ready", "False", "Pending", "new")),
        annotations={"cert-manager.io/certificate-revision": "2"},
    )
    lines = cd.diagnose(cd.related({"Certificate": certificate, "CertificateRequest": [old, new]}))
    assert "CertificateRequest wild-2 pending: new" in lines and not any(
        "old failure" in line for line in lines
    )
