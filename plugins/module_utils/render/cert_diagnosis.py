"""Why a cert-manager Certificate is not Ready, from what cert-manager writes in status.

Reads the Certificate's conditions (Ready, Issuing), its CertificateRequests' (Ready with reasons Pending,
Failed, Issued; Approved; Denied; InvalidRequest), the ACME Orders' status.state/reason, and the Challenges'
status.presented, status.processing, status.state and status.reason, and says in one line each what blocks
issuance, e.g. "Challenge for *.example.com pending: DNS record not yet propagated".
"""

from __future__ import annotations

import re

from ansible_collections.octo.platform.plugins.module_utils.render.kinds import (
    CERTIFICATE,
    CERTIFICATE_REQUEST,
    CHALLENGE,
    ORDER,
)

FAMILY = (CERTIFICATE, CERTIFICATE_REQUEST, ORDER, CHALLENGE)
_STATUS_CODE = re.compile(r"wrong status code '(\d+)'")
_SELF_CHECK_ERROR = re.compile(r"failed to perform self check GET request '[^']*': (.+)", re.IGNORECASE)
DONE_STATES = ("valid",)
FAILED_STATES = ("invalid", "errored", "expired")


def related(family: dict) -> dict:
    """Keep only the objects issued for the Certificate: its CertificateRequests (owner reference or the
    certificate-name annotation), their Orders and those Orders' Challenges (owner references)."""
    certificate = family.get("Certificate")
    name = (certificate or {}).get("metadata", {}).get("name")
    requests = [
        r
        for r in family.get("CertificateRequest") or []
        if _owned_by(r, "Certificate", {name})
        or _annotations(r).get("cert-manager.io/certificate-name") == name
    ]
    orders = [o for o in family.get("Order") or [] if _owned_by(o, "CertificateRequest", _names(requests))]
    challenges = [c for c in family.get("Challenge") or [] if _owned_by(c, "Order", _names(orders))]
    return {
        "Certificate": certificate,
        "CertificateRequest": requests,
        "Order": orders,
        "Challenge": challenges,
    }


def diagnose(family: dict) -> list[str]:
    """One line per thing that blocks the Certificate, the most specific (Challenges) last."""
    certificate = family.get("Certificate")
    if certificate is None:
        return ["Certificate does not exist"]
    ref = _ref(certificate)
    ready = _condition(certificate, "Ready")
    if ready and ready.get("status") == "True":
        return []
    lines = [
        f"{ref} not ready: {_explain(ready) if ready else 'no Ready condition yet (is cert-manager running?)'}"
    ]
    issuing = _condition(certificate, "Issuing")
    if issuing and issuing.get("status") == "False" and issuing.get("reason") == "Failed":
        lines.append(f"{ref} issuance failed: {issuing.get('message', '')}".rstrip(": "))
    lines.extend(filter(None, (request_line(r) for r in _latest_first(family.get("CertificateRequest")))))
    lines.extend(filter(None, (order_line(o) for o in family.get("Order") or [])))
    lines.extend(filter(None, (challenge_line(c) for c in family.get("Challenge") or [])))
    return lines


def request_line(request: dict) -> str | None:
    name = f"CertificateRequest {request['metadata']['name']}"
    denied = _condition(request, "Denied")
    if denied and denied.get("status") == "True":
        return f"{name} denied: {_explain(denied)}"
    invalid = _condition(request, "InvalidRequest")
    if invalid and invalid.get("status") == "True":
        return f"{name} invalid: {_explain(invalid)}"
    ready = _condition(request, "Ready")
    if ready is None:
        approved = _condition(request, "Approved")
        return None if approved else f"{name} not approved yet (is the approver running?)"
    if ready.get("status") == "True":
        return None
    word = "failed" if ready.get("reason") == "Failed" else "pending"
    return f"{name} {word}: {ready.get('message') or ready.get('reason', '')}"


def order_line(order: dict) -> str | None:
    status = order.get("status") or {}
    state = status.get("state") or "pending"
    if state in DONE_STATES:
        return None
    if state in FAILED_STATES:
        return f"Order {order['metadata']['name']} {state}: {status.get('reason') or 'no reason given'}"
    return None  # pending/ready/processing orders: their Challenges say why


def challenge_line(challenge: dict) -> str | None:
    """What one ACME Challenge waits for or why it failed."""
    spec, status = challenge.get("spec") or {}, challenge.get("status") or {}
    state, reason = status.get("state") or "pending", status.get("reason") or ""
    if state in DONE_STATES:
        return None
    host = ("*." if spec.get("wildcard") else "") + spec.get("dnsName", "?")
    kind = str(spec.get("type", "")).upper()
    if state in FAILED_STATES:
        return f"Challenge for {host} ({kind}) {state}: {reason or 'no reason given'}"
    if not status.get("presented"):
        return f"Challenge for {host} ({kind}) not presented yet" + (f": {reason}" if reason else "")
    if kind == "HTTP-01":
        code = _STATUS_CODE.search(reason)
        error = _SELF_CHECK_ERROR.search(reason)
        if code or error:
            return f"HTTP-01 self check failed for {host}: {code.group(1) if code else error.group(1)}"
    if kind == "DNS-01" and "propagat" in reason.lower():
        return f"Challenge for {host} pending: DNS record not yet propagated"
    return f"Challenge for {host} ({kind}) {state}" + (f": {reason}" if reason else "")


def _explain(condition: dict) -> str:
    parts = [p for p in (condition.get("reason"), condition.get("message")) if p]
    return ": ".join(parts) or f"{condition.get('type')} is {condition.get('status')}"


def _condition(obj: dict, kind: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), None)


def _owned_by(obj: dict, kind: str, names: set) -> bool:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(ref.get("kind") == kind and ref.get("name") in names for ref in refs)


def _names(objects: list[dict]) -> set:
    return {obj["metadata"]["name"] for obj in objects}


def _annotations(obj: dict) -> dict:
    return (obj.get("metadata") or {}).get("annotations") or {}


def _latest_first(objects: list[dict] | None) -> list[dict]:
    """Newest first: the revision cert-manager is working on explains the present state."""
    return sorted(
        objects or [],
        key=lambda o: int(_annotations(o).get("cert-manager.io/certificate-revision", "0") or 0),
        reverse=True,
    )[:1]


def _ref(obj: dict) -> str:
    metadata = obj["metadata"]
    return f"Certificate {metadata.get('namespace')}/{metadata['name']}"
