"""The `platform_preflight` operation: hardening findings over the settings, the credentials and live facts.

Live facts, read only: the integrations namespace's ResourceQuotas, and SubjectAccessReviews asking the API
server whether the orchestrator's ServiceAccount may act outside its namespaces.
"""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.render import preflight

SAR_PATH = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
# What a namespace-scoped orchestrator must not be allowed: (verb, group, resource, namespace or "" for all).
CLUSTER_WIDE_PROBES = (
    ("list", "", "secrets", ""),
    ("get", "", "secrets", "kube-system"),
    ("create", "", "pods", "kube-system"),
    ("create", "rbac.authorization.k8s.io", "clusterrolebindings", ""),
    ("*", "*", "*", ""),
)


def quota_present(kube: Kube, namespace: str) -> bool:
    answer = kube.request("GET", f"/api/v1/namespaces/{namespace}/resourcequotas", what="ResourceQuota list")
    return bool((answer or {}).get("items"))


def cluster_wide_grants(kube: Kube, namespace: str, account: str) -> list[str]:
    """The probes the API server allows the ServiceAccount, as "verb resource in <where>"."""
    user = f"system:serviceaccount:{namespace}:{account}"
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]
    grants = []
    for verb, group, resource, where in CLUSTER_WIDE_PROBES:
        attributes = {"verb": verb, "group": group, "resource": resource, "namespace": where}
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {"user": user, "groups": groups, "resourceAttributes": attributes},
        }
        answer = kube.request("POST", SAR_PATH, body=review, what="SubjectAccessReview")
        if (answer.get("status") or {}).get("allowed"):
            grants.append(f"{verb} {resource or '*'} in {where or 'all namespaces'}")
    return grants


def _facts(params: dict, settings: dict, kube: Kube | None) -> dict:
    facts = {
        "k3s_config": params.get("k3s_config"),
        "bucket_drift": params.get("state_bucket_drift"),
        "integrations_namespace": settings.get("integrations_namespace"),
        "quota_configured": bool(settings.get("integrations_quota")),
    }
    if not params["cluster"]:
        return facts
    kube = kube or Kube(auth_params(params))
    account = params["orchestrator_service_account"]
    facts["orchestrator"] = f"ServiceAccount {settings.get('namespace')}/{account}"
    facts["quota_present"] = quota_present(kube, settings["integrations_namespace"])
    facts["rbac_cluster_wide"] = cluster_wide_grants(kube, settings["namespace"], account)
    return facts


def run(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    settings = dict(params["settings"])
    for key in ("namespace", "integrations_namespace"):
        if params["cluster"] and not settings.get(key):
            raise ValidationError("the preflight checks", f"settings.{key}", "required to check the cluster")
    config = {
        **settings,
        "backups_enabled": params["backups_enabled"],
        "public_hosts": preflight.public_hosts(settings, params.get("public_hosts")),
        "public_urls": preflight.public_urls(settings, params.get("public_urls")),
    }
    found = preflight.findings(
        config, params.get("credentials") or {}, _facts(params, settings, kube), params["waivers"]
    )
    result = {
        "changed": False,
        "findings": preflight.as_dicts(found),
        "table": preflight.table(found),
        "counts": {
            s: sum(1 for f in found if f.severity == s and not f.waived) for s in preflight.SEVERITIES
        },
    }
    high = preflight.blocking(found)
    if params["strict"] and high:
        ids = ", ".join(sorted({f.id for f in high}))
        raise OctoError(
            "pass", "the preflight hardening checks", f"{len(high)} high findings ({ids})", **result
        )
    return result
