"""The one registry of the API kinds this collection reads and writes: identity, REST path, delete order."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Kind:
    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def header(self) -> dict:
        """The apiVersion/kind pair a manifest of this kind starts with."""
        return {"apiVersion": self.api_version, "kind": self.kind}

    @property
    def group_path(self) -> str:
        return "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        parts = [self.group_path]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(self.plural)
        if name:
            parts.append(quote(name, safe=""))
        return "/".join(parts)


CONFIG_MAP = Kind("v1", "ConfigMap", "configmaps")
SECRET = Kind("v1", "Secret", "secrets")
SERVICE = Kind("v1", "Service", "services")
POD = Kind("v1", "Pod", "pods")
EVENT = Kind("v1", "Event", "events")
NAMESPACE = Kind("v1", "Namespace", "namespaces", namespaced=False)
DEPLOYMENT = Kind("apps/v1", "Deployment", "deployments")
REPLICA_SET = Kind("apps/v1", "ReplicaSet", "replicasets")
INGRESS = Kind("networking.k8s.io/v1", "Ingress", "ingresses")

# cert-manager's kinds (the certificate wait reads them; not managed by the integration engine).
CERTIFICATE = Kind("cert-manager.io/v1", "Certificate", "certificates")
CERTIFICATE_REQUEST = Kind("cert-manager.io/v1", "CertificateRequest", "certificaterequests")
ORDER = Kind("acme.cert-manager.io/v1", "Order", "orders")
CHALLENGE = Kind("acme.cert-manager.io/v1", "Challenge", "challenges")
# The deploy lock (render.lease).
LEASE = Kind("coordination.k8s.io/v1", "Lease", "leases")

# The kinds an integration deployment is made of, dependents first: the order deletions go in.
MANAGED = (INGRESS, SERVICE, DEPLOYMENT, CONFIG_MAP)
BY_KIND = {
    k.kind: k for k in (CONFIG_MAP, SECRET, SERVICE, POD, EVENT, NAMESPACE, DEPLOYMENT, REPLICA_SET, INGRESS)
}


def kind_of(obj: dict) -> Kind:
    """The registered Kind of a manifest (its apiVersion must be the one registered)."""
    found = BY_KIND.get(obj.get("kind", ""))
    if found is None or found.api_version != obj.get("apiVersion"):
        raise KeyError(f"{obj.get('apiVersion')}/{obj.get('kind')}")
    return found


def delete_rank(obj: dict) -> int:
    """Position of an object's kind in the delete order (unmanaged kinds last)."""
    ranks = [k.kind for k in MANAGED]
    return ranks.index(obj.get("kind")) if obj.get("kind") in ranks else len(ranks)
