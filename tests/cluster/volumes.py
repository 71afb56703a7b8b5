"""PersistentVolumes of the local cluster: what k3s's local-path provisioner gives a k3s node, pre-created.

A StorageClass `local-hostpath` (no provisioner, bound at once) and VOLUME_COUNT hostPath PersistentVolumes
under the cluster's state dir, world-writable so that a non-root database (Postgres runs as uid 999) can
initialize its data directory on the real node. Idempotent: existing objects are left as they are, and a
volume whose claim was deleted (Released) is wiped and made Available again, as a provisioner would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

STORAGE_CLASS = "local-hostpath"
VOLUME_COUNT = 6
LABEL = "octo.dev/local-volume"
VOLUME_SIZE = "10Gi"
ALREADY_EXISTS = 409


def storage_class() -> dict:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": STORAGE_CLASS},
        "provisioner": "kubernetes.io/no-provisioner",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate",
    }


def volume(name: str, path: Path, storage_class: str = STORAGE_CLASS) -> dict:
    """A hostPath volume; of the cluster's pool (labelled, recycled) when of its storage class."""
    labels = {LABEL: "true"} if storage_class == STORAGE_CLASS else {}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "capacity": {"storage": VOLUME_SIZE},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": storage_class,
            "hostPath": {"path": str(path), "type": "Directory"},
        },
    }


def ensure(api, root: Path) -> list[str]:
    """Create the StorageClass and the volumes that are missing; returns the names created."""
    created = []
    if _create(api, "/apis/storage.k8s.io/v1/storageclasses", storage_class()):
        created.append(STORAGE_CLASS)
    for index in range(VOLUME_COUNT):
        path = root / f"pv-{index}"
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o777)  # a non-root pod writes there; the cluster dir above is not world-readable
        name = f"octo-local-pv-{index}"
        if _create(api, "/api/v1/persistentvolumes", volume(name, path)):
            created.append(name)
    recycle(api)
    return created


def recycle(api) -> list[str]:
    """Wipe the Released volumes and drop their old claim so that they bind again; returns their names."""
    status, answer = api.request("GET", f"/api/v1/persistentvolumes?labelSelector={LABEL}%3Dtrue")
    if status != 200:
        raise RuntimeError(f"Failed to list the local volumes: {status} {answer}")
    recycled = []
    for item in answer["items"]:
        if item.get("status", {}).get("phase") != "Released":
            continue
        path = Path(item["spec"]["hostPath"]["path"])
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o777)
        name = item["metadata"]["name"]
        patch = [{"op": "remove", "path": "/spec/claimRef"}]
        status, answer = api.request(
            "PATCH", f"/api/v1/persistentvolumes/{name}", patch, "application/json-patch+json"
        )
        if status != 200:
            raise RuntimeError(f"Failed to recycle PersistentVolume {name}: {status} {answer}")
        recycled.append(name)
    return recycled


def _create(api, path: str, body: dict) -> bool:
    status, answer = api.request("POST", path, body)
    if status == ALREADY_EXISTS:
        return False
    if status != 201:
        raise RuntimeError(f"Failed to create {body['kind']} {body['metadata']['name']}: {status} {answer}")
    return True
