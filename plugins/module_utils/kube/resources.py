"""The API resources this collection manages, with their REST paths (no discovery round trip)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Resource:
    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

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


CONFIG_MAP = Resource("v1", "ConfigMap", "configmaps")
SECRET = Resource("v1", "Secret", "secrets")
SERVICE = Resource("v1", "Service", "services")
POD = Resource("v1", "Pod", "pods")
EVENT = Resource("v1", "Event", "events")
NAMESPACE = Resource("v1", "Namespace", "namespaces", namespaced=False)
DEPLOYMENT = Resource("apps/v1", "Deployment", "deployments")
REPLICA_SET = Resource("apps/v1", "ReplicaSet", "replicasets")
INGRESS = Resource("networking.k8s.io/v1", "Ingress", "ingresses")

BY_KIND = {
    r.kind: r for r in (CONFIG_MAP, SECRET, SERVICE, POD, EVENT, NAMESPACE, DEPLOYMENT, REPLICA_SET, INGRESS)
}


def resource_for(obj: dict) -> Resource:
    """The Resource of a manifest, by kind (apiVersion must match what we manage)."""
    res = BY_KIND.get(obj.get("kind", ""))
    if res is None or res.api_version != obj.get("apiVersion"):
        raise KeyError(f"{obj.get('apiVersion')}/{obj.get('kind')}")
    return res
