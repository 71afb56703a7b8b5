"""PersistentVolumes of the local cluster: what k3s's local-path provisioner gives a k3s node, pre-created.

A StorageClass `local-hostpath` (no provisioner, bound at once) and VOLUME_COUNT hostPath PersistentVolumes
under the cluster's state dir, world-writable so that a non-root database (Postgres runs as uid 999) can
initialize its data directory on the real node. Idempotent: existing objects are left as they are.
"""

from __future__ import annotations

from pathlib import Path

STORAGE_CLASS = "local-hostpath"
VOLUME_COUNT = 4
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


def volume(name: str, path: Path) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": {"octo.dev/local-volume": "true"}},
        "spec": {
            "capacity": {"storage": VOLUME_SIZE},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": STORAGE_CLASS,
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
    return created


def _create(api, path: str, body: dict) -> bool:
    status, answer = api.request("POST", path, body)
    if status == ALREADY_EXISTS:
        return False
    if status != 201:
        raise RuntimeError(f"Failed to create {body['kind']} {body['metadata']['name']}: {status} {answer}")
    return True
