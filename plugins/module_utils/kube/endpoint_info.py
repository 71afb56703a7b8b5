"""The `platform_endpoint_info` operation: check one public URL's chain DNS -> Ingress -> TLS Secret -> certificate.

Reads only. Each check runs when the ones it needs passed (the Secret needs the Ingress, the certificate needs
the Secret); ``ok`` is True when every check that ran passed and none was left out.
"""

from __future__ import annotations

import base64
import os

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.render import endpoint
from ansible_collections.octo.platform.plugins.module_utils.tls import certs, probe

_WHAT = "the endpoint"


def _validate(params: dict) -> dict:
    host = endpoint.host_of(params["url"])
    expected = endpoint.ip_list(params.get("node_ip"), "node_ip")
    resolver = endpoint.ip_list([params["resolver"]], "resolver")[0] if params.get("resolver") else None
    for option in ("resolver_port", "port"):
        if not 0 < params[option] < 65536:
            raise ValidationError(_WHAT, option, "must be between 1 and 65535")
    if params["min_days_left"] < 0:
        raise ValidationError(_WHAT, "min_days_left", "must be 0 or more")
    ca_file = params.get("handshake_ca_cert")
    if ca_file and not os.path.isfile(ca_file):
        raise ValidationError(_WHAT, "handshake_ca_cert", f"{ca_file} is not a file")
    return {"host": host, "expected": expected, "resolver": resolver, "ca_file": ca_file}


def _certificate(host: str, kube: Kube, ingress: dict, min_days: int, checks: list) -> str | None:
    """Secret and certificate checks; the stored certificate's fingerprint when there is one."""
    namespace = ingress["metadata"]["namespace"]
    name = endpoint.tls_secret_name(host, ingress)
    secret = kube.get(res.SECRET, name, namespace)
    checks.append(endpoint.secret_check(namespace, name, secret))
    if not checks[-1].ok:
        return None
    pem = base64.b64decode(secret["data"]["tls.crt"])
    facts = certs.facts(pem)
    checks.append(endpoint.certificate_check(host, facts, certs.now(), min_days))
    return facts.fingerprint_sha256


def _serving_ingress(kube: Kube, host: str, namespace: str | None) -> dict | None:
    """The Ingress for ``host`` in ``namespace`` first, else in every namespace."""
    found = endpoint.serving_ingress(host, kube.list(res.INGRESS, namespace)) if namespace else None
    return found or endpoint.serving_ingress(host, kube.list(res.INGRESS))


def check(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    certs.require()
    found = _validate(params)
    host = found["host"]
    addresses, error = probe.resolve(host, found["resolver"], params["resolver_port"])
    checks = [endpoint.dns_check(host, addresses, found["expected"], error)]
    kube = kube or Kube(auth_params(params))
    ingress = _serving_ingress(kube, host, params.get("namespace"))
    checks.append(endpoint.ingress_check(host, ingress))
    stored = None
    if checks[-1].ok:
        stored = _certificate(host, kube, ingress, params["min_days_left"], checks)
    if params["handshake"]:
        address = params.get("address") or (addresses[0] if addresses else host)
        served, error = probe.handshake(host, address, params["port"], found["ca_file"])
        checks.append(endpoint.handshake_check(f"{address}:{params['port']}", error, served, stored))
    expected = 4 + bool(params["handshake"])
    return {
        "changed": False,
        "host": host,
        "ok": len(checks) == expected and all(c.ok for c in checks),
        "checks": [c.as_dict() for c in checks],
        "failures": [c.message for c in checks if not c.ok],
    }
