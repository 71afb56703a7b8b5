"""The platform role's molecule scenario (converge, idempotence, verify) against the local cluster."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from kubernetes import client
from kubernetes.client.rest import ApiException

ROOT = Path(__file__).resolve().parents[2]


def delete(call, *args) -> None:
    try:
        call(*args)
    except ApiException as error:
        if error.status != 404:
            raise


def test_platform_role_scenario(kubeconfig, kube_client, tmp_path):
    namespace = f"tm-{secrets.token_hex(3)}"
    volume = tmp_path / "pv"
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "NO_COLOR": "1",
        "K8S_AUTH_KUBECONFIG": kubeconfig,
        "OCTO_MOLECULE_NAMESPACE": namespace,
        "OCTO_MOLECULE_VOLUME_DIR": str(volume),
    }
    core = client.CoreV1Api(kube_client)
    try:
        run = subprocess.run(
            [os.path.join(bin_dir, "molecule"), "test", "-s", "platform"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        output = run.stdout + run.stderr
        assert run.returncode == 0, output[-4000:]
        for stage in ("syntax", "converge", "idempotence", "verify"):
            assert f"{stage}: Executed: Successful" in output, output[-4000:]
        deployment = client.AppsV1Api(kube_client).read_namespaced_deployment("octo-orchestrator", namespace)
        assert deployment.metadata.generation == 1, "the idempotence run changed the pod template"
        assert "molecule-encryption-key" not in output
    finally:
        for name in (namespace, f"{namespace}-int"):
            delete(core.delete_namespace, name)
        delete(core.delete_persistent_volume, namespace)
