"""API discovery for kinds outside the registry in render.kinds: one GET per group/version, cached per call."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.kube.client import ApiError
from ansible_collections.octo.platform.plugins.module_utils.kube.resources import Resource


class Discovery:
    """Resolves (apiVersion, kind) to a Resource with its REST path and scope; None when the server lacks it."""

    def __init__(self, kube):
        self._kube = kube
        self._groups: dict[str, dict[str, Resource]] = {}

    def resource(self, api_version: str, kind: str) -> Resource | None:
        if api_version not in self._groups:
            self._groups[api_version] = self._read(api_version)
        return self._groups[api_version].get(kind)

    def _read(self, api_version: str) -> dict[str, Resource]:
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        try:
            answer = self._kube.request("GET", path, what=f"API group {api_version}") or {}
        except ApiError as err:
            if err.status != 404:  # a group the server does not serve answers 404, not always in JSON
                raise
            return {}
        return {
            entry["kind"]: Resource(api_version, entry["kind"], entry["name"], bool(entry.get("namespaced")))
            for entry in answer.get("resources") or []
            if "/" not in entry.get("name", "/")  # subresources (status, scale) are not kinds
        }
