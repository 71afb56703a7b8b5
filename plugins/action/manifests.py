"""Controller side of octo.platform.manifests: group/kubernetes.core.k8s module defaults apply (plugin_utils.k8s_defaults)."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.plugin_utils.k8s_defaults import KubernetesModuleAction


class ActionModule(KubernetesModuleAction):
    """Runs octo.platform.manifests."""
