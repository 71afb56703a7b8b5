"""Pure rollout evaluation: a Deployment, its ReplicaSets, pods and events -> one status.

Mirrors `kubectl rollout status`, plus fail-fast on states that cannot recover by waiting.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

REVISION = "deployment.kubernetes.io/revision"
# A container may crash once and recover (a dependency not up yet): a crash loop is fatal from this restart on.
CRASH_LOOP_FATAL_RESTARTS = 2
# A kubelet whose Secret/ConfigMap cache has not synced yet says so and retries: not a configuration error.
TRANSIENT_MESSAGE_PREFIXES = ("failed to sync ",)
SPEC_UNREAD = frozenset({"Pod", "ReplicaSet"})  # kinds whose spec the evaluation never reads
# Container waiting reasons that more waiting will not fix.
FATAL_WAITING = {
    "ImagePullBackOff": "the image cannot be pulled",
    "InvalidImageName": "the image name is invalid",
    "ErrImageNeverPull": "the image is not present and the pull policy is Never",
    "CrashLoopBackOff": "the container keeps crashing",
    "CreateContainerConfigError": "the container configuration is invalid",
    "CreateContainerError": "the container cannot be created",
    "RunContainerError": "the container cannot be started",
}


@dataclass(frozen=True)
class RolloutStatus:
    state: str  # complete | progressing | failed
    desired: int
    updated: int
    ready: int
    available: int
    message: str
    reason: str | None = None
    pod: str | None = None

    @property
    def done(self) -> bool:
        return self.state != "progressing"

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def slim(obj: dict) -> dict:
    """What a rollout's evaluation reads of a listed object: no managedFields, and no spec of a pod or
    ReplicaSet (only their ownership, revision and status count); a follower keeps thousands of them."""
    kept = {key: value for key, value in obj.items() if key != "spec" or obj.get("kind") not in SPEC_UNREAD}
    metadata = obj.get("metadata") or {}
    kept["metadata"] = {key: value for key, value in metadata.items() if key != "managedFields"}
    return kept


def _owned_by(obj: dict, owner: dict) -> bool:
    uid = owner.get("metadata", {}).get("uid")
    return any(ref.get("uid") == uid for ref in obj.get("metadata", {}).get("ownerReferences", []))


def current_replica_set(deployment: dict, replica_sets: list[dict]) -> dict | None:
    """The ReplicaSet of the Deployment's current revision."""
    revision = deployment.get("metadata", {}).get("annotations", {}).get(REVISION)
    if revision is None:
        return None
    for rs in replica_sets:
        if _owned_by(rs, deployment) and rs["metadata"].get("annotations", {}).get(REVISION) == revision:
            return rs
    return None


def current_pods(deployment: dict, replica_sets: list[dict], pods: list[dict]) -> list[dict]:
    rs = current_replica_set(deployment, replica_sets)
    if rs is None:
        return []
    return [p for p in pods if _owned_by(p, rs)]


def _pod_failure(pod: dict) -> tuple[str, str] | None:
    status = pod.get("status", {})
    for cond in status.get("conditions", []):
        if (
            cond.get("type") == "PodScheduled"
            and cond.get("status") == "False"
            and cond.get("reason") == "Unschedulable"
        ):
            return "Unschedulable", cond.get("message", "no node can run the pod")
    for cs in status.get("initContainerStatuses", []) + status.get("containerStatuses", []):
        waiting = cs.get("state", {}).get("waiting") or {}
        reason = waiting.get("reason")
        if reason == "CrashLoopBackOff" and cs.get("restartCount", 0) < CRASH_LOOP_FATAL_RESTARTS:
            continue
        if (waiting.get("message") or "").startswith(TRANSIENT_MESSAGE_PREFIXES):
            continue
        if reason in FATAL_WAITING:
            detail = waiting.get("message") or FATAL_WAITING[reason]
            return reason, f"container {cs.get('name')}: {detail}"
    return None


def evaluate(deployment: dict | None, replica_sets: list[dict], pods: list[dict]) -> RolloutStatus:
    if deployment is None:
        return RolloutStatus("failed", 0, 0, 0, 0, "the Deployment does not exist", reason="NotFound")
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    desired = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    ready = status.get("readyReplicas", 0)
    available = status.get("availableReplicas", 0)
    counts = (desired, updated, ready, available)

    if deployment["metadata"].get("generation", 0) > status.get("observedGeneration", 0):
        return RolloutStatus("progressing", *counts, "waiting for the controller to see the new spec")
    for cond in status.get("conditions", []):
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return RolloutStatus(
                "failed", *counts, cond.get("message", ""), reason="ProgressDeadlineExceeded"
            )
    for pod in current_pods(deployment, replica_sets, pods):
        failure = _pod_failure(pod)
        if failure:
            reason, message = failure
            return RolloutStatus("failed", *counts, message, reason=reason, pod=pod["metadata"]["name"])
    if updated < desired:
        return RolloutStatus("progressing", *counts, f"{updated} of {desired} new replicas updated")
    total = status.get("replicas", 0)
    if total > updated:
        return RolloutStatus("progressing", *counts, f"{total - updated} old replicas pending termination")
    if available < updated:
        return RolloutStatus("progressing", *counts, f"{available} of {updated} updated replicas available")
    return RolloutStatus("complete", *counts, f"{available} of {desired} replicas available")


def progress_line(name: str, status: RolloutStatus) -> str:
    line = f"{name}: {status.ready}/{status.desired} pods ready, {status.updated} updated - {status.message}"
    return line if status.reason is None else f"{line} ({status.reason})"


def timed_out(status: RolloutStatus, timeout: float) -> RolloutStatus:
    ready = f"{status.ready} of {status.desired} pods ready"
    message = f"timed out after {timeout}s with {ready}: {status.message}"
    return replace(status, state="failed", message=message, reason="Timeout")


def event_key(summary: dict) -> tuple:
    """Identity of a summarized event occurrence (a repeated event counts up)."""
    return summary["object"], summary["reason"], summary["message"], summary["count"]


def summarize_event(event: dict) -> dict:
    involved = event.get("involvedObject", {})
    return {
        "time": event.get("lastTimestamp")
        or event.get("eventTime")
        or event["metadata"].get("creationTimestamp"),
        "type": event.get("type"),
        "reason": event.get("reason"),
        "object": f"{involved.get('kind', '').lower()}/{involved.get('name')}",
        "message": event.get("message", ""),
        "count": event.get("count", 1),
    }


def related_events(
    events: list[dict], deployment: dict, replica_sets: list[dict], pods: list[dict]
) -> list[dict]:
    """Events about the Deployment, its ReplicaSets and their pods, oldest first."""
    uids = {deployment["metadata"].get("uid")}
    owned_rs = [rs for rs in replica_sets if _owned_by(rs, deployment)]
    uids.update(rs["metadata"].get("uid") for rs in owned_rs)
    uids.update(p["metadata"].get("uid") for p in pods if any(_owned_by(p, rs) for rs in owned_rs))
    mine = [e for e in events if e.get("involvedObject", {}).get("uid") in uids]
    return sorted(mine, key=lambda e: summarize_event(e)["time"] or "")
