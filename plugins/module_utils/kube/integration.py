"""The `integration` operation: render -> read actual by label -> plan -> apply -> wait."""

from __future__ import annotations

import time

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import (
    ItemFailed,
    OctoError,
    ValidationError,
)
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.converge import (
    apply_plan,
    converge_set,
    diff_report,
    object_report,
    owned_selector,
    read_owned,
)
from ansible_collections.octo.platform.plugins.module_utils.kube.waiter import label_selector
from ansible_collections.octo.platform.plugins.module_utils.render import names
from ansible_collections.octo.platform.plugins.module_utils.render.integration import (
    IntegrationRequest,
    TlsSettings,
    deployment_selector,
    render,
)
from ansible_collections.octo.platform.plugins.module_utils.render.undeploy import (
    other_deployment_ids,
    plan_undeploy,
)


def build_request(params: dict) -> IntegrationRequest:
    """Module params -> IntegrationRequest (reads definition_file when given)."""
    definition = params.get("definition")
    if params.get("definition_file"):
        try:
            with open(params["definition_file"], encoding="utf-8") as handle:
                definition = handle.read()
        except OSError as err:
            raise ValidationError(
                "integration", "definition_file", f"cannot read it ({err.strerror})"
            ) from err
    if definition is None:
        raise ValidationError("integration", "definition", "one of definition or definition_file is required")
    return IntegrationRequest(
        name=params.get("name") or params["slug"],
        slug=params["slug"],
        deployment_id=params["deployment_id"],
        definition=definition,
        image=params["image"],
        namespace=params["namespace"],
        bindings=params.get("env") or {},  # literals of any scalar type and mappings: render checks them
        replicas=params["replicas"],
        expose=params["expose"],
        subdomain=params.get("subdomain"),
        base_domain=params.get("base_domain"),
        tls=TlsSettings(
            mode=params["tls_mode"],
            cluster_issuer=params["cluster_issuer"],
            wildcard_secret=params["wildcard_secret"],
        ),
        ingress_class=params["ingress_class"],
        resources=params.get("resources"),
        node_selector=params.get("node_selector"),
        tolerations=params.get("tolerations"),
        probes=params.get("probes"),
    )


def present(kube: Kube, params: dict, check_mode: bool, diff: bool) -> dict:
    rendered = render(build_request(params))
    [result] = converge_set(
        kube,
        [rendered],
        check_mode=check_mode,
        diff=diff,
        wait=params["wait"],
        wait_timeout=params["wait_timeout"],
        wait_sleep=params["wait_sleep"],
    )
    if result.pop("failed"):
        raise ItemFailed(result.pop("msg"), **result)
    return result


def absent(kube: Kube, params: dict, check_mode: bool, diff: bool) -> dict:
    namespace, deployment_id = params["namespace"], params["deployment_id"]
    if not names.is_dns_label(deployment_id):
        raise ValidationError("integration", "deployment_id", "must be a lowercase RFC 1123 label")
    slug = params.get("slug")
    if not slug:
        mine = read_owned(kube, namespace, label_selector(deployment_selector(deployment_id)))
        slug = next((o["metadata"]["labels"].get(names.LABEL_SLUG) for o in mine), None)
    actual_all = read_owned(kube, namespace, owned_selector({slug})) if slug else []
    others = other_deployment_ids(actual_all, deployment_id, slug) if slug else set()
    the_plan = plan_undeploy(actual_all, deployment_id, slug, len(others))
    result = {
        "changed": the_plan.changed,
        "namespace": namespace,
        "slug": slug,
        "deployment_id": deployment_id,
        "objects": object_report(the_plan),
        "remaining_deployments": sorted(others),
    }
    if diff:
        result["diff"] = diff_report(the_plan)
    if check_mode or not the_plan.changed:
        return result
    apply_plan(kube, the_plan)
    if params["wait"]:
        wait_pods_gone(kube, namespace, deployment_id, params["wait_timeout"], params["wait_sleep"])
    return result


def wait_pods_gone(kube: Kube, namespace: str, deployment_id: str, timeout: float, sleep: float) -> None:
    """After an undeploy, wait (bounded) until the deployment's pods are gone."""
    selector = f"{names.LABEL_DEPLOYMENT}={deployment_id}"
    deadline = time.monotonic() + timeout
    while pods := kube.list(res.POD, namespace, label_selector=selector):
        if time.monotonic() >= deadline:
            left = ", ".join(sorted(p["metadata"]["name"] for p in pods))
            raise OctoError(
                "undeploy",
                f"deployment {deployment_id}",
                f"pods still present after {timeout}s: {left}",
                changed=True,
            )
        time.sleep(sleep)


def converge(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    kube = kube or Kube(auth_params(params))
    if params["state"] == "absent":
        return absent(kube, params, check_mode, diff)
    return present(kube, params, check_mode, diff)
