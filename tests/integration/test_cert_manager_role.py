"""The cert_manager role through real ansible-playbook runs against the local API server (real cert-manager CRD
schemas, no cert-manager controller): four-run idempotence, objects that validate, the DNS-01 key never shown,
the bounded webhook wait, and the certificate wait's diagnosis from the status cert-manager writes."""

from __future__ import annotations

import base64
import json
import secrets as pysecrets

import pytest
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.render.kinds import (
    CERTIFICATE,
    CERTIFICATE_REQUEST,
    CHALLENGE,
    ORDER,
)

DOMAIN = "octo.example.com"
HELM_CHART = res.Resource("helm.cattle.io/v1", "HelmChart", "helmcharts")
CLUSTER_ISSUER = res.Resource("cert-manager.io/v1", "ClusterIssuer", "clusterissuers", namespaced=False)
NOW = "2026-01-01T00:00:00Z"
ROLE = "octo.platform.cert_manager : "  # how ansible-core 2.21's callback names the role's tasks (2.19: no prefix)


@pytest.fixture
def kube(kubeconfig):
    return Kube({"kubeconfig": kubeconfig})


def role_vars(namespace: str, key: str, **extra) -> dict:
    return {
        "cert_manager_domain": DOMAIN,
        "cert_manager_acme_email": "ops@example.com",
        "cert_manager_namespace": namespace,
        "cert_manager_dns01_project": "octo-project",
        "cert_manager_dns01_service_account_key": key,
        "cert_manager_wildcard_namespaces": [namespace],
        "cert_manager_wait_webhook": False,
        "cert_manager_wait_certificate": False,
        **extra,
    }


def sa_key() -> tuple[str, str]:
    """A service-account key shaped like Google's, with a random private key field; (json, the secret part)."""
    private = pysecrets.token_hex(24)
    key = {
        "type": "service_account",
        "project_id": "octo-project",
        "private_key": private,
        "client_email": "a@b.c",
    }
    return json.dumps(key), private


def play(kubeconfig: str, role: dict, **options):
    task = {
        "name": "cert-manager",
        "ansible.builtin.include_role": {"name": "octo.platform.cert_manager"},
        "vars": role,
    }
    return run_tasks([task], env={"K8S_AUTH_KUBECONFIG": kubeconfig}, **options)


def role_task(run, name: str) -> dict:
    """The result of the role's task ``name``, whichever way this ansible-core names role tasks."""
    return next(r for r in reversed(run.results) if r["task"].removeprefix(ROLE) == name)["result"]


def changed_tasks(run) -> list[str]:
    return [r["task"].removeprefix(ROLE) for r in run.results if r["status"] == "changed"]


def test_four_runs_objects_validate_and_the_key_is_never_shown(kubeconfig, namespace, kube):
    key, private = sa_key()
    role = role_vars(namespace, key)
    first = play(kubeconfig, role, diff=True, verbosity=3)
    assert first.rc == 0, first.output[-3000:]
    assert "Store the Cloud DNS service-account key for DNS-01" in changed_tasks(first)
    for text in (private, base64.b64encode(key.encode()).decode()):
        assert text not in first.output
    chart = kube.get(HELM_CHART, "cert-manager", "kube-system")
    assert (
        chart["spec"]["version"] == "v1.16.2" and "crds:\n  enabled: true" in chart["spec"]["valuesContent"]
    )
    prod = kube.get(CLUSTER_ISSUER, "letsencrypt-prod")
    assert prod["spec"]["acme"]["solvers"][0]["http01"]["ingress"]["ingressClassName"] == "traefik"
    assert kube.get(CLUSTER_ISSUER, "letsencrypt-staging")["spec"]["acme"]["server"].startswith(
        "https://acme-staging-v02"
    )
    dns = kube.get(CLUSTER_ISSUER, "letsencrypt-dns")["spec"]["acme"]["solvers"][0]["dns01"]["cloudDNS"]
    assert dns == {
        "project": "octo-project",
        "serviceAccountSecretRef": {"name": "cert-manager-clouddns", "key": "key.json"},
    }
    stored = kube.get(res.SECRET, "cert-manager-clouddns", namespace)
    assert json.loads(base64.b64decode(stored["data"]["key.json"])) == json.loads(key)
    cert = kube.get(CERTIFICATE, "octo-wildcard-tls", namespace)
    assert (
        cert["spec"]["dnsNames"] == [f"*.{DOMAIN}", DOMAIN]
        and cert["spec"]["secretName"] == "octo-wildcard-tls"
    )
    assert cert["spec"]["issuerRef"]["name"] == "letsencrypt-dns"

    second = play(kubeconfig, role, verbosity=3)
    assert second.rc == 0 and changed_tasks(second) == [], second.output[-3000:]
    assert private not in second.output
    check = play(kubeconfig, role, check=True, diff=True)
    assert check.rc == 0 and changed_tasks(check) == [], check.output[-3000:]
    fourth = play(kubeconfig, role)
    assert fourth.rc == 0 and changed_tasks(fourth) == []


def test_bad_inputs_fail_before_any_write(kubeconfig, namespace, kube):
    key, private = sa_key()
    bad_email = play(kubeconfig, role_vars(namespace, key, cert_manager_acme_email="nope"))
    assert bad_email.rc != 0 and "Failed to validate cert-manager inputs" in bad_email.output
    bad_key = play(kubeconfig, role_vars(namespace, json.dumps({"private_key": private})), verbosity=3)
    assert bad_key.rc != 0 and "cert_manager_dns01_service_account_key" in bad_key.output
    assert private not in bad_key.output
    assert kube.get(res.SECRET, "cert-manager-clouddns", namespace) is None


def test_webhook_wait_is_bounded_and_says_what_it_waited_for(kubeconfig, namespace):
    key, _private = sa_key()
    role = role_vars(namespace, key, cert_manager_wait_webhook=True, cert_manager_wait_timeout=2)
    run = play(kubeconfig, role)
    assert run.rc != 0
    message = role_task(run, "Install cert-manager through the k3s Helm controller")["msg"]
    assert message.startswith(
        f"Failed to wait for Deployment {namespace}/cert-manager-webhook: not ready after 2s"
    )
    assert "does not exist" in message


def owner(obj: dict) -> list[dict]:
    return [
        {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"],
        }
    ]


def create_with_status(kube: Kube, resource, namespace: str, body: dict, status: dict) -> dict:
    created = kube.create(
        resource, {**resource.header, **body, "metadata": {**body["metadata"], "namespace": namespace}}
    )
    created["status"] = status
    return kube.request(
        "PUT", resource.path(namespace, created["metadata"]["name"]) + "/status", body=created
    )


def test_certificate_wait_explains_a_pending_dns01_challenge(kubeconfig, namespace, kube):
    key, _private = sa_key()
    assert play(kubeconfig, role_vars(namespace, key)).rc == 0
    cert = kube.get(CERTIFICATE, "octo-wildcard-tls", namespace)
    cert["status"] = {
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "DoesNotExist",
                "message": "Issuing certificate as Secret does not exist",
                "lastTransitionTime": NOW,
            },
            {
                "type": "Issuing",
                "status": "True",
                "reason": "DoesNotExist",
                "message": "Issuing certificate as Secret does not exist",
                "lastTransitionTime": NOW,
            },
        ]
    }
    kube.request("PUT", CERTIFICATE.path(namespace, "octo-wildcard-tls") + "/status", body=cert)
    request = create_with_status(
        kube,
        CERTIFICATE_REQUEST,
        namespace,
        {
            "metadata": {
                "name": "octo-wildcard-tls-1",
                "ownerReferences": owner(cert),
                "annotations": {"cert-manager.io/certificate-revision": "1"},
            },
            "spec": {
                "request": base64.b64encode(b"csr").decode(),
                "issuerRef": {"name": "letsencrypt-dns", "kind": "ClusterIssuer"},
            },
        },
        {
            "conditions": [
                {
                    "type": "Approved",
                    "status": "True",
                    "reason": "cert-manager.io",
                    "message": "Certificate request has been approved by cert-manager.io",
                    "lastTransitionTime": NOW,
                },
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "Pending",
                    "message": 'Waiting on certificate issuance from order octo/octo-wildcard-tls-1-1: "pending"',
                    "lastTransitionTime": NOW,
                },
            ]
        },
    )
    order = create_with_status(
        kube,
        ORDER,
        namespace,
        {
            "metadata": {"name": "octo-wildcard-tls-1-1", "ownerReferences": owner(request)},
            "spec": {
                "request": base64.b64encode(b"csr").decode(),
                "issuerRef": {"name": "letsencrypt-dns"},
                "dnsNames": [f"*.{DOMAIN}", DOMAIN],
            },
        },
        {"state": "pending", "url": "https://acme.example/order/1"},
    )
    create_with_status(
        kube,
        CHALLENGE,
        namespace,
        {
            "metadata": {"name": "octo-wildcard-tls-1-1-2", "ownerReferences": owner(order)},
            "spec": {
                "authorizationURL": "https://acme.example/authz/1",
                "dnsName": DOMAIN,
                "wildcard": True,
                "type": "DNS-01",
                "token": "t",
                "key": "k",
                "url": "https://acme.example/chall/1",
                "issuerRef": {"name": "letsencrypt-dns"},
                "solver": {"dns01": {"cloudDNS": {"project": "octo-project"}}},
            },
        },
        {
            "presented": True,
            "processing": True,
            "state": "pending",
            "reason": f'Waiting for DNS-01 challenge propagation: DNS record for "{DOMAIN}" not yet propagated',
        },
    )
    run = play(
        kubeconfig, role_vars(namespace, key, cert_manager_wait_certificate=True, cert_manager_wait_timeout=3)
    )
    assert run.rc != 0
    result = role_task(run, "Request the wildcard certificate and wait until it is Ready")
    assert result["msg"].startswith(
        f"Failed to wait for Certificate {namespace}/octo-wildcard-tls: not ready after 3s"
    )
    assert result["diagnosis"][-1] == f"Challenge for *.{DOMAIN} pending: DNS record not yet propagated"
    assert (
        f"Certificate {namespace}/octo-wildcard-tls not ready: DoesNotExist: Issuing certificate as Secret does not exist"
        in result["diagnosis"]
    )
    assert any(
        line.startswith("CertificateRequest octo-wildcard-tls-1 pending") for line in result["diagnosis"]
    )
    assert result["changed"] is False  # nothing was written: only the wait failed
