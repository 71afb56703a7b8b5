"""The `integration_info` operation: deployments of integrations with replicas, readiness, URLs, rollout and
revision history."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.revisions import read_histories
from ansible_collections.octo.platform.plugins.module_utils.kube.waiter import events_of, label_selector
from ansible_collections.octo.platform.plugins.module_utils.render import names, rollout, urls


def _labels(obj: dict) -> dict:
    return obj["metadata"].get("labels", {})


def _named(objects: list[dict], name: str) -> dict | None:
    return next((obj for obj in objects if obj["metadata"]["name"] == name), None)


def describe(
    kube: Kube, namespace: str, slug: str | None, deployment_id: str | None, events: bool
) -> list[dict]:
    selector = {names.LABEL_MANAGED_BY: names.MANAGED_BY}
    if slug:
        selector[names.LABEL_SLUG] = slug
    if deployment_id:
        selector[names.LABEL_DEPLOYMENT] = deployment_id
    sel = label_selector(selector)
    deployments = kube.list(res.DEPLOYMENT, namespace, label_selector=sel)
    if not deployments:
        return []
    slugs = {_labels(d).get(names.LABEL_SLUG) for d in deployments}
    by_slug = {names.LABEL_MANAGED_BY: names.MANAGED_BY}
    if len(slugs) == 1:  # the shared octo-int-<slug> Service has no deployment label
        by_slug[names.LABEL_SLUG] = next(iter(slugs))
    services = kube.list(res.SERVICE, namespace, label_selector=label_selector(by_slug))
    ingresses = kube.list(res.INGRESS, namespace, label_selector=sel)
    pod_sel = names.LABEL_DEPLOYMENT + (f"={deployment_id}" if deployment_id else "")
    replica_sets = kube.list(res.REPLICA_SET, namespace, label_selector=pod_sel)
    pods = kube.list(res.POD, namespace, label_selector=pod_sel)
    all_events = kube.list(res.EVENT, namespace) if events else []
    histories = read_histories(kube, namespace, {deployment_id} if deployment_id else set())
    found = []
    for dep in sorted(deployments, key=lambda d: d["metadata"]["name"]):
        labels = _labels(dep)
        dep_id, dep_slug = labels.get(names.LABEL_DEPLOYMENT), labels.get(names.LABEL_SLUG)
        status = rollout.evaluate(dep, replica_sets, pods)
        containers = dep["spec"]["template"]["spec"].get("containers", [])
        entry = {
            "deployment_id": dep_id,
            "slug": dep_slug,
            "name": dep["metadata"].get("annotations", {}).get(names.ANNOTATION_INTEGRATION, dep_slug),
            "namespace": namespace,
            "image": containers[0].get("image") if containers else None,
            "replicas": status.desired,
            "ready": status.ready,
            "updated": status.updated,
            "available": status.available,
            "rollout": status.as_dict(),
            "internal_url": urls.internal_url(_named(services, names.integration_service_name(dep_slug))),
            "public_url": urls.public_url(_named(ingresses, names.deployment_object_name(dep_id))),
        }
        entry["exposed"] = entry["public_url"] is not None
        entry["history"] = [revision.summary() for revision in histories.get(dep_id, [])]
        entry["revision"] = entry["history"][-1] if entry["history"] else None
        if events:
            related = events_of(kube, namespace, status, dep, replica_sets, pods, all_events)
            entry["events"] = [rollout.summarize_event(e) for e in related[-20:]]
        found.append(entry)
    return found


def info(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    kube = kube or Kube(auth_params(params))
    deployments = describe(
        kube, params["namespace"], params.get("slug"), params.get("deployment_id"), params["events"]
    )
    return {"changed": False, "deployments": deployments}
