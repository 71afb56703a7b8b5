"""Pure checks of one public endpoint's chain: DNS -> Ingress -> TLS Secret -> certificate (-> handshake).

Each check is a ``Check`` (name, ok, message, details); the `platform_endpoint_info` module gathers the facts
(DNS answers, Ingresses, the Secret, the handshake) and these functions judge them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import names, tls

_WHAT = "the endpoint"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "message": self.message, **self.details}


def host_of(url: str) -> str:
    """The host of a URL (or of a bare host name), lowercased; ValidationError when there is none."""
    text = url.strip()
    host = (urlsplit(text if "://" in text else f"//{text}").hostname or "").rstrip(".")
    if not names.is_dns_name(host):
        raise ValidationError(_WHAT, "url", f"{url!r} has no DNS host name")
    return host


def ip_list(values, field_name: str) -> list[str]:
    found = []
    for value in values or []:
        try:
            found.append(str(ipaddress.ip_address(str(value))))
        except ValueError:
            raise ValidationError(_WHAT, field_name, f"{value!r} is not an IP address") from None
    return found


def dns_check(host: str, addresses: list[str], expected: list[str], error: str | None) -> Check:
    details = {"addresses": sorted(addresses), "expected": sorted(expected)}
    if error:
        return Check("dns", False, f"{host} does not resolve: {error}", details)
    if not addresses:
        return Check("dns", False, f"{host} has no A/AAAA record", details)
    stray = sorted(set(addresses) - set(expected))
    if expected and stray:
        message = f"{host} resolves to {', '.join(stray)}, not the node ({', '.join(sorted(expected))})"
        return Check("dns", False, message, details)
    return Check("dns", True, f"{host} resolves to {', '.join(sorted(addresses))}", details)


def _rule_hosts(ingress: dict) -> list[str]:
    return [rule.get("host", "") for rule in (ingress.get("spec") or {}).get("rules") or []]


def serving_ingress(host: str, ingresses: list[dict]) -> dict | None:
    """The Ingress with a rule for ``host`` (an exact rule wins over a wildcard one); None when there is none."""
    exact = [i for i in ingresses if host in _rule_hosts(i)]
    wild = [i for i in ingresses if any(h.startswith("*.") and tls.covers([h], host) for h in _rule_hosts(i))]
    found = sorted(exact or wild, key=lambda i: (i["metadata"]["namespace"], i["metadata"]["name"]))
    return found[0] if found else None


def tls_secret_name(host: str, ingress: dict) -> str | None:
    for entry in (ingress.get("spec") or {}).get("tls") or []:
        if tls.covers(entry.get("hosts") or [], host) and entry.get("secretName"):
            return entry["secretName"]
    return None


def ingress_check(host: str, ingress: dict | None) -> Check:
    if ingress is None:
        return Check("ingress", False, f"no Ingress has a rule for {host}")
    meta = ingress["metadata"]
    secret = tls_secret_name(host, ingress)
    details = {"namespace": meta["namespace"], "ingress": meta["name"], "secret_name": secret}
    where = f"Ingress {meta['namespace']}/{meta['name']}"
    if secret is None:
        return Check("ingress", False, f"{where} serves {host} without TLS", details)
    return Check("ingress", True, f"{where} serves {host} with the TLS Secret {secret}", details)


def secret_check(namespace: str, name: str, secret: dict | None) -> Check:
    where = f"TLS Secret {namespace}/{name}"
    if secret is None:
        return Check("secret", False, f"{where} does not exist")
    if not (secret.get("data") or {}).get("tls.crt"):
        return Check("secret", False, f"{where} has no tls.crt")
    return Check("secret", True, f"{where} exists")


def certificate_check(host: str, facts: tls.CertFacts, now: datetime, min_days_left: int) -> Check:
    left = tls.days_left(facts.not_after, now)
    details = {
        "dns_names": list(facts.dns_names),
        "issuer": facts.issuer,
        "not_after": facts.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "days_left": left,
        "fingerprint_sha256": facts.fingerprint_sha256,
    }
    if not tls.covers(facts.dns_names, host):
        message = f"the certificate covers {', '.join(facts.dns_names) or 'no DNS name'}, not {host}"
        return Check("certificate", False, message, details)
    if left < min_days_left:
        state = "expired" if left < 0 else f"expires in {left} days"
        return Check(
            "certificate", False, f"the certificate for {host} {state} (threshold {min_days_left})", details
        )
    return Check("certificate", True, f"the certificate covers {host}, {left} days left", details)


def handshake_check(address: str, error: str | None, served: str | None, stored: str | None) -> Check:
    """``served``/``stored``: fingerprints of the certificate the server sent and of the Secret's."""
    details = {"address": address, "fingerprint_sha256": served}
    if error:
        return Check("handshake", False, f"TLS handshake with {address} failed: {error}", details)
    if stored and served != stored:
        return Check(
            "handshake", False, f"{address} serves another certificate than the Secret holds", details
        )
    return Check("handshake", True, f"TLS handshake with {address} verified", details)
