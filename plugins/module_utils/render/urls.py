"""The URLs of a deployment, derived from its objects (rendered or read from the server alike)."""

from __future__ import annotations


def internal_url(service: dict | None) -> str | None:
    """``http://<name>.<namespace>:<port>`` of a Service with a port."""
    ports = ((service or {}).get("spec") or {}).get("ports") or []
    if not ports:
        return None
    metadata = service["metadata"]
    return f"http://{metadata['name']}.{metadata['namespace']}:{ports[0]['port']}"


def public_url(ingress: dict | None) -> str | None:
    """``https://<host>`` of an Ingress (``http://`` when it has no TLS section)."""
    spec = (ingress or {}).get("spec") or {}
    rules = spec.get("rules") or []
    if not rules or not rules[0].get("host"):
        return None
    return f"{'https' if spec.get('tls') else 'http'}://{rules[0]['host']}"
