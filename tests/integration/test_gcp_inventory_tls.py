"""The gcp inventory's Traefik and cert-manager steps of site.yml render objects the API server accepts.

Check mode: every object goes through a server-side dry run against the local cluster's real CRD schemas
(HelmChartConfig, HelmChart, ClusterIssuer, Certificate, Middleware, TLSOption, IngressRoute), nothing is
written, and the DNS-01 service-account key never shows, even at -vvv with --diff.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

from support.playbook import REPO_ROOT, ansible_bin

from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.render import kinds

SENTINEL = "SENTINEL-dns01-key-9f3c"


def test_gcp_inventory_tls_objects_validate_without_a_write(kubeconfig, namespace):
    key = json.dumps({"type": "service_account", "project_id": "my-project", "private_key": SENTINEL})
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "OCTO_DNS01_SERVICE_ACCOUNT_KEY": key,
    }
    variables = {
        "octo_kubeconfig": kubeconfig,
        "octo_namespace": namespace,
        "cert_manager_wildcard_namespaces": [namespace],
        "traefik_wildcard_namespaces": [namespace],
        "cert_manager_wait_webhook": False,
        "cert_manager_wait_certificate": False,
    }
    run = subprocess.run(
        [
            ansible_bin("ansible-playbook"),
            *("-i", "inventories/gcp", "playbooks/site.yml", "--tags", "traefik,cert_manager"),
            *("--check", "--diff", "-vvv", "-e", json.dumps(variables)),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert re.search(r"localhost\s+: ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0", run.stdout)
    for kind in ("HelmChartConfig", "HelmChart", "ClusterIssuer", "Certificate", "Middleware", "TLSOption"):
        assert f'"kind": "{kind}"' in run.stdout, kind  # in the results: planned, dry-run validated
    assert SENTINEL not in output
    kube = Kube({"kubeconfig": kubeconfig})
    assert kube.get(kinds.CERTIFICATE, "octo-wildcard-tls", namespace) is None  # check mode wrote nothing
