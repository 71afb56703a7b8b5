"""The platform role on the real node: Postgres from the locally built Debian image on a hostPath volume, the
editor and orchestrator as the runtime stand-in, a client labelled as the orchestrator logging in to Postgres with
the Secret's credentials, the editor answering through Traefik at the apex.
"""

from __future__ import annotations

import secrets

import pytest
from cluster import volumes
from e2e_support import get_through_traefik, wait_until
from images.postgres_image import IMAGE as POSTGRES_IMAGE
from images.runtime_images import IMAGE
from kubernetes.client.rest import ApiException
from support.playbook import run_tasks

STANDIN = {"repository": IMAGE.split(":")[0], "tag": IMAGE.split(":")[1], "pull_policy": "IfNotPresent"}
POSTGRES = {"repository": POSTGRES_IMAGE.split(":")[0], "tag": POSTGRES_IMAGE.split(":")[1]}
LOGIN_SECONDS = 60


@pytest.fixture
def platform(real_cluster, core, tmp_path):
    ns = f"e2p-{secrets.token_hex(3)}"
    volume = tmp_path / "pgdata"
    volume.mkdir()
    volume.chmod(0o777)
    core.create_persistent_volume(volumes.volume(ns, volume, storage_class=ns))
    variables = {
        "platform_namespace": ns,
        "platform_integrations_namespace": f"{ns}-int",
        "platform_domain": f"{ns}.localtest.me",
        "platform_tls_mode": "none",
        "platform_editor_image": STANDIN,
        "platform_editor_probe_path": "/healthz",
        "platform_editor_extra_env": {"HTTP_PORT": "3000", "HTTP_HOST": "0.0.0.0"},
        "platform_orchestrator_image": STANDIN,
        "platform_orchestrator_extra_env": {"HTTP_PORT": "8080", "HTTP_HOST": "0.0.0.0"},
        "platform_postgres_image": POSTGRES,
        "platform_postgres_storage_class": ns,
        "platform_postgres_storage_size": "1Gi",
        "platform_wait_timeout": 180,
        "platform_credentials": {
            "postgres_password": secrets.token_urlsafe(24),
            "session_secret": secrets.token_urlsafe(32),
            "encryption_key": secrets.token_urlsafe(32),
        },
    }
    yield {"ns": ns, "vars": variables}
    for name in (ns, f"{ns}-int"):
        try:
            core.delete_namespace(name)
        except ApiException as error:
            if error.status != 404:
                raise
    core.delete_persistent_volume(ns)


def client_pod(ns: str, postgres_ip: str) -> dict:
    """psql in the Postgres image, with the orchestrator's labels and the password from the platform's Secret."""
    secret_env = {
        "name": "PGPASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "octo-postgres", "key": "POSTGRES_PASSWORD"}},
    }
    return {
        "metadata": {"name": "orchestrator-login", "labels": {"app.kubernetes.io/name": "octo-orchestrator"}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 999},
            "containers": [
                {
                    "name": "psql",
                    "image": POSTGRES_IMAGE,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["psql", "-tAc", "select current_user || '@' || current_database()"],
                    "env": [
                        {"name": "PGHOST", "value": postgres_ip},
                        {"name": "PGUSER", "value": "octo"},
                        {"name": "PGDATABASE", "value": "octo"},
                        secret_env,
                    ],
                }
            ],
        },
    }


def test_platform_on_real_pods(core, platform, traefik_port):
    ns = platform["ns"]
    run = run_tasks(
        [{"name": "platform", "ansible.builtin.include_role": {"name": "octo.platform.platform"}}],
        extra_vars=platform["vars"],
    )
    assert run.rc == 0, run.output[-4000:]
    pods = {p.metadata.labels["app.kubernetes.io/name"]: p for p in core.list_namespaced_pod(ns).items}
    assert sorted(pods) == ["octo-editor", "octo-orchestrator", "octo-postgres"]
    for pod in pods.values():
        (status,) = pod.status.container_statuses
        assert status.ready and status.container_id.startswith("containerd://")
    assert pods["octo-postgres"].status.container_statuses[0].image == POSTGRES_IMAGE

    # The headless Service's name resolves to exactly these addresses; the node has no cluster DNS.
    (subset,) = core.read_namespaced_endpoints("octo-postgres", ns).subsets
    (address,) = subset.addresses
    assert address.ip == pods["octo-postgres"].status.pod_ip
    core.create_namespaced_pod(ns, client_pod(ns, address.ip))

    def logged_in():
        pod = core.read_namespaced_pod("orchestrator-login", ns)
        return pod.status.phase if pod.status.phase in ("Succeeded", "Failed") else None

    assert wait_until("the psql login", logged_in, timeout=LOGIN_SECONDS) == "Succeeded", (
        core.read_namespaced_pod_log("orchestrator-login", ns)
    )
    assert core.read_namespaced_pod_log("orchestrator-login", ns).strip() == "octo@octo"

    host = f"{ns}.localtest.me"

    def editor_answer():
        status, body = get_through_traefik(traefik_port, host)
        return body if status == 200 and isinstance(body, dict) else None

    body = wait_until("the editor through Traefik", editor_answer)
    assert body["hostname"] == pods["octo-editor"].metadata.name
    assert {"AUTH_SECRET", "ORCHESTRATOR_URL", "AUTH_URL"} <= set(body["env"])
    assert platform["vars"]["platform_credentials"]["session_secret"] not in str(body)
