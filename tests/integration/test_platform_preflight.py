"""platform_preflight against the local API server: ResourceQuota read, RBAC by SubjectAccessReview, strict mode."""

from __future__ import annotations

import json
import secrets

import pytest
from k8s_support import module_params
from kubernetes import client
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.common.preflight_args import PREFLIGHT
from ansible_collections.octo.platform.plugins.module_utils.kube import preflight

ACCOUNT = "octo-orchestrator"
CREDENTIALS = {"session_secret": secrets.token_urlsafe(32), "encryption_key": secrets.token_urlsafe(32)}


@pytest.fixture
def platform(kube_client, namespace):
    """The platform namespace (with the orchestrator's ServiceAccount and its namespaced Role) and an
    integrations namespace; both deleted afterwards, with any ClusterRoleBinding a test made."""
    core, rbac = client.CoreV1Api(kube_client), client.RbacAuthorizationV1Api(kube_client)
    integrations = f"{namespace}-i"
    core.create_namespace({"metadata": {"name": integrations}})
    core.create_namespaced_service_account(namespace, {"metadata": {"name": ACCOUNT}})
    rule = {"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "list", "create", "delete"]}
    rbac.create_namespaced_role(integrations, {"metadata": {"name": ACCOUNT}, "rules": [rule]})
    subject = {"kind": "ServiceAccount", "name": ACCOUNT, "namespace": namespace}
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ACCOUNT}
    rbac.create_namespaced_role_binding(
        integrations, {"metadata": {"name": ACCOUNT}, "subjects": [subject], "roleRef": role_ref}
    )
    yield {"namespace": namespace, "integrations_namespace": integrations, "subject": subject}
    for delete in (rbac.delete_cluster_role_binding, rbac.delete_cluster_role):
        try:
            delete(f"{namespace}-wide")
        except client.ApiException as err:
            assert err.status == 404
    core.delete_namespace(integrations)


def params(kubeconfig, platform, **extra):
    settings = {
        "namespace": platform["namespace"],
        "integrations_namespace": platform["integrations_namespace"],
        "domain": "octo.test",
        "tls_mode": "wildcard",
        "postgres_mode": "in_cluster",
        "editor_image": {"repository": "ghcr.io/octo-dev/octo-editor", "tag": "v0.1.4"},
    }
    return module_params(
        {**PREFLIGHT, **K8S_AUTH}, kubeconfig=kubeconfig, settings=settings, credentials=CREDENTIALS,
        backups_enabled=True, **extra,
    )  # fmt: skip


def ids(result):
    return [f["id"] for f in result["findings"]]


def test_quota_found_live_and_namespaced_rbac_passes(kube_client, kubeconfig, platform):
    assert ids(preflight.run(params(kubeconfig, platform))) == ["quota_missing"]
    quota = {"metadata": {"name": "integrations"}, "spec": {"hard": {"pods": "10"}}}
    client.CoreV1Api(kube_client).create_namespaced_resource_quota(platform["integrations_namespace"], quota)
    result = preflight.run(params(kubeconfig, platform), check_mode=True)
    assert result["findings"] == [] and result["counts"] == {"high": 0, "medium": 0, "low": 0}


def test_a_cluster_role_binding_is_found_by_subject_access_review(kube_client, kubeconfig, platform):
    rbac = client.RbacAuthorizationV1Api(kube_client)
    name = f"{platform['namespace']}-wide"
    rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}
    rbac.create_cluster_role({"metadata": {"name": name}, "rules": [rule]})
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}
    rbac.create_cluster_role_binding(
        {"metadata": {"name": name}, "subjects": [platform["subject"]], "roleRef": role_ref}
    )
    p = params(kubeconfig, platform, public_hosts=[{"host": "orders.octo.test", "tls": True}])
    result = preflight.run({**p, "settings": {**p["settings"], "integrations_quota": {"pods": "5"}}})
    wide = [f["evidence"] for f in result["findings"] if f["id"] == "rbac_cluster_wide"]
    account = f"ServiceAccount {platform['namespace']}/{ACCOUNT}"
    assert wide == [
        f"{account} may get secrets in kube-system",
        f"{account} may list secrets in all namespaces",
    ]
    with pytest.raises(
        OctoError, match=r"Failed to pass the preflight hardening checks: 2 high findings \(rbac_clu"
    ):
        preflight.run({**p, "strict": True})


def test_module_prints_the_report_and_strict_fails_without_leaking_secrets(kubeconfig, platform):
    args = {k: v for k, v in params(kubeconfig, platform).items() if v not in (None, [], {})}
    args["settings"] = {**args["settings"], "editor_image": {"repository": "r/e", "tag": "latest"}}
    args["credentials"] = {**CREDENTIALS, "postgres_password": "changeme"}
    tasks = [
        {"name": "report", "octo.platform.platform_preflight": args, "register": "report"},
        {"name": "table", "ansible.builtin.debug": {"msg": "{{ report.table }}"}},
        {
            "name": "strict",
            "octo.platform.platform_preflight": {**args, "strict": True},
            "ignore_errors": True,
        },
    ]
    run = run_tasks(tasks, verbosity=3)
    assert run.rc == 0, run.output
    assert ids(run.task("report")["result"]) == ["secret_default", "mutable_tag", "quota_missing"]
    assert "HIGH      secret_default  postgres_password is an example or default value" in run.output
    assert "1 high findings (secret_default)" in run.task("strict")["result"]["msg"]
    for value in CREDENTIALS.values():
        assert value not in run.output and value not in json.dumps(run.results)
