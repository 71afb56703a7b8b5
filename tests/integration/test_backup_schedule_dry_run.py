"""The scheduled backup's objects are accepted by the local API server (server-side dry-run create)."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.render import backup_schedule

PLURALS = {"Secret": "secrets", "ServiceAccount": "serviceaccounts", "CronJob": "cronjobs"}


def cronjob_version(kube: Kube) -> str:
    """batch/v1 when the server serves CronJob there (1.21+), else batch/v1beta1."""
    resources = (kube.request("GET", "/apis/batch/v1") or {}).get("resources", [])
    return "batch/v1" if any(r["name"] == "cronjobs" for r in resources) else "batch/v1beta1"


def test_objects_pass_a_dry_run_create(kubeconfig, namespace):
    kube = Kube({"kubeconfig": kubeconfig})
    settings = {
        "namespace": namespace,
        "bucket": "acme-octo-state",
        "image": "registry.local/octo-platform-ee:0.1.0",
        "gcp_key_secret": "octo-backup-gcp",
        "api_version": cronjob_version(kube),
    }
    for obj in backup_schedule.objects(settings, "k" * 43, "p" * 43):
        group = "/api/v1" if obj["apiVersion"] == "v1" else f"/apis/{obj['apiVersion']}"
        path = f"{group}/namespaces/{namespace}/{PLURALS[obj['kind']]}"
        created = kube.request("POST", path, query={"dryRun": "All"}, body=obj, what=obj["kind"])
        assert created["metadata"]["name"] == "octo-backup" and created["kind"] == obj["kind"]
        if obj["kind"] == "CronJob":
            pod = created["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            assert (
                pod["containers"][0]["command"]
                == obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"]
            )
    assert kube.request("GET", f"/api/v1/namespaces/{namespace}/secrets/octo-backup") is None  # dry run only
