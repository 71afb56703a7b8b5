"""The traefik role through a real ansible-playbook: four runs, objects that validate, the local CA, bad input."""

from __future__ import annotations

import yaml
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.render.kinds import Kind

APPLY = "Apply the HelmChartConfig, Middlewares, TLSOption and redirect"
LOCAL_CA = "Generate the local CA and the wildcard certificate, store the wildcard TLS Secret"
HELM_CHART_CONFIG = Kind("helm.cattle.io/v1", "HelmChartConfig", "helmchartconfigs")
MIDDLEWARE = Kind("traefik.io/v1alpha1", "Middleware", "middlewares")
TLS_OPTION = Kind("traefik.io/v1alpha1", "TLSOption", "tlsoptions")
INGRESS_ROUTE = Kind("traefik.io/v1alpha1", "IngressRoute", "ingressroutes")


def role_tasks(kubeconfig, namespace, **role_vars) -> list[dict]:
    role = {
        "name": "traefik",
        "ansible.builtin.include_role": {"name": "octo.platform.traefik"},
        "vars": {"traefik_namespace": namespace, "traefik_wildcard_namespaces": [namespace], **role_vars},
    }
    return [{"block": [role], "module_defaults": {"group/octo.platform.k8s": {"kubeconfig": kubeconfig}}}]


def role_task(run, name: str) -> dict:
    """A role task's result entry; ansible-core 2.19 names it without the `<role> : ` prefix."""
    for candidate in (f"octo.platform.traefik : {name}", name):
        try:
            return run.task(candidate)
        except KeyError:
            continue
    raise KeyError(name)


def cleanup(kubeconfig, namespace):
    """The HelmChartConfig is cluster-wide (kube-system/traefik): remove this owner's objects."""
    run_tasks(
        [
            {
                "octo.platform.manifests": {
                    "kubeconfig": kubeconfig,
                    "owner": "traefik",
                    "namespace": namespace,
                    "state": "absent",
                    "definitions": [
                        {
                            "apiVersion": "helm.cattle.io/v1",
                            "kind": "HelmChartConfig",
                            "metadata": {"name": "traefik", "namespace": "kube-system"},
                        }
                    ],
                }
            }
        ]
    )


def test_four_runs_apply_validating_objects_and_the_local_ca(kubeconfig, namespace, tmp_path):
    ca_dir = tmp_path / "tls"
    tasks = role_tasks(
        kubeconfig,
        namespace,
        traefik_trusted_ips=["10.0.0.0/8"],
        traefik_local_ca=True,
        traefik_local_ca_dir=str(ca_dir),
        traefik_local_ca_domain="octo.localtest.me",
    )
    try:
        runs = [run_tasks(tasks, check=check, diff=True) for check in (True, False, True, False)]
        assert all(run.rc == 0 for run in runs), [run.output for run in runs if run.rc]
        assert [role_task(run, APPLY)["status"] for run in runs] == ["changed", "changed", "ok", "ok"]
        assert [role_task(run, LOCAL_CA)["status"] for run in runs] == ["changed", "changed", "ok", "ok"]
        assert all("PRIVATE KEY" not in run.output for run in runs)
        actions = {
            (o["kind"], o["name"]): o["action"] for o in role_task(runs[1], APPLY)["result"]["objects"]
        }
        assert len(actions) == 5
        # The HelmChartConfig is the cluster's one (kube-system/traefik): another run may have written it.
        assert actions.pop(("HelmChartConfig", "traefik")) in ("created", "updated", "unchanged")
        assert set(actions.values()) == {
            "created"
        }  # the test namespace's Middlewares, TLSOption, IngressRoute

        kube = Kube({"kubeconfig": kubeconfig})
        chart = kube.get(HELM_CHART_CONFIG, "traefik", "kube-system")
        values = yaml.safe_load(chart["spec"]["valuesContent"])
        assert values["ports"]["websecure"]["middlewares"] == [f"{namespace}-security-headers@kubernetescrd"]
        assert values["ports"]["web"]["forwardedHeaders"]["trustedIPs"] == ["10.0.0.0/8"]
        headers = kube.get(MIDDLEWARE, "security-headers", namespace)["spec"]["headers"]
        assert headers["frameDeny"] is True and headers["stsSeconds"] == 31536000  # kept by the CRD schema
        assert kube.get(TLS_OPTION, "default", namespace)["spec"] == {"minVersion": "VersionTLS12"}
        route = kube.get(INGRESS_ROUTE, "http-to-https", namespace)["spec"]["routes"][0]
        assert route["match"] == "PathPrefix(`/`) && !PathPrefix(`/.well-known/acme-challenge/`)"
        assert (ca_dir / "ca.crt").exists()
        assert f"curl --cacert {ca_dir / 'ca.crt'}" in runs[1].stdout
    finally:
        cleanup(kubeconfig, namespace)


def test_bad_settings_fail_before_any_write(kubeconfig, namespace):
    kube = Kube({"kubeconfig": kubeconfig})
    bad_ip = run_tasks(role_tasks(kubeconfig, namespace, traefik_trusted_ips=["10.0.0.0/33"]))
    assert bad_ip.rc != 0
    assert (
        "Failed to validate the Traefik settings: trusted_ips: '10.0.0.0/33' is not an IP address or CIDR"
        in (bad_ip.output)
    )
    bad_tls = run_tasks(role_tasks(kubeconfig, namespace, traefik_min_tls_version="VersionTLS10"))
    assert bad_tls.rc != 0 and "traefik_min_tls_version" in bad_tls.output
    no_dir = run_tasks(role_tasks(kubeconfig, namespace, traefik_local_ca=True))
    assert "traefik_local_ca needs traefik_local_ca_dir and traefik_local_ca_domain" in no_dir.output
    assert kube.get(MIDDLEWARE, "security-headers", namespace) is None
