"""Follow Deployment rollouts until each completes, fails or times out (predicates live in render.rollout).

One follower serves the modules (waiting in the module process) and the action plugin (printing live lines on
the controller): per namespace and poll it makes one LIST each of Deployments, ReplicaSets, pods and events,
however many deployments it follows, page by page, keeping of each object only what the evaluation reads
(rollout.slim: 2,000 pods at N=1000). The lists are indexed by deployment once per poll, so a poll costs
O(objects), not O(deployments x objects). ``on_poll`` sees each poll's statuses and new events (the bulk form's
aggregate progress lines).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.render import names, rollout
from ansible_collections.octo.platform.plugins.module_utils.render.integration import deployment_selector

EVENT_SETTLE_TRIES = 4
EVENT_SETTLE_SLEEP = 0.5

Key = tuple[str, str]  # (namespace, deployment_id)
# One poll's observations: {(namespace, id): (status, events new in this poll)}.
Observed = dict[Key, tuple[rollout.RolloutStatus, list[dict]]]


def label_selector(labels: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


class Watch:
    """Accumulates a timeline of status lines and new events across observations."""

    def __init__(self, name: str, on_line: Callable[[str], None] | None = None):
        self.name = name
        self.timeline: list[dict] = []
        self._on_line = on_line or (lambda line: None)
        self._seen: set = set()
        self._last_line = None
        self._start = time.monotonic()

    @property
    def elapsed(self) -> float:
        return round(time.monotonic() - self._start, 1)

    @property
    def events(self) -> list[dict]:
        return [entry["event"] for entry in self.timeline if "event" in entry]

    def record(self, status: rollout.RolloutStatus, events: list[dict]) -> list[dict]:
        """Adds what changed to the timeline; returns the events not seen before."""
        elapsed = self.elapsed
        line = rollout.progress_line(self.name, status)
        if line != self._last_line:
            self._last_line = line
            self.timeline.append({"t": elapsed, "status": line})
            self._on_line(line)
        new = []
        for event in events:
            key = rollout.event_key(event)
            if key in self._seen:
                continue
            self._seen.add(key)
            new.append(event)
            self.timeline.append({"t": elapsed, "event": event})
            self._on_line(
                f"{self.name}: {event['type']} {event['reason']} {event['object']}: {event['message']}"
            )
        return new


def follow(
    kube,
    targets: list[Key],
    timeout: float,
    sleep: float,
    on_line: Callable[[str], None] | None = None,
    on_poll: Callable[[Observed], None] | None = None,
) -> dict[Key, tuple[rollout.RolloutStatus, Watch]]:
    """Poll every target together until each is done; returns {(namespace, id): (status, watch)}."""
    watches = {key: Watch(names.deployment_object_name(key[1]), on_line) for key in targets}
    done: dict[Key, tuple[rollout.RolloutStatus, Watch]] = {}
    deadline = time.monotonic() + timeout
    while True:
        observed: Observed = {}
        for namespace in sorted({ns for ns, _dep_id in watches.keys() - done.keys()}):
            waiting = sorted(dep_id for ns, dep_id in watches.keys() - done.keys() if ns == namespace)
            expired = time.monotonic() >= deadline
            for dep_id, status, related in _observe(kube, namespace, waiting, timeout, expired):
                key = (namespace, dep_id)
                new = watches[key].record(status, [rollout.summarize_event(e) for e in related])
                observed[key] = (status, new)
                if status.done:
                    done[key] = (status, watches[key])
        if on_poll:
            on_poll(observed)
        if len(done) == len(watches):
            return done
        time.sleep(max(0.0, min(sleep, deadline - time.monotonic())))


def _observe(kube, namespace: str, waiting: list[str], timeout: float, expired: bool):
    """One poll of a namespace: yields (deployment_id, status, related events) for each waiting id."""
    one = len(waiting) == 1
    base = {names.LABEL_MANAGED_BY: names.MANAGED_BY}
    selector = label_selector(deployment_selector(waiting[0]) if one else base)
    pod_selector = f"{names.LABEL_DEPLOYMENT}={waiting[0]}" if one else names.LABEL_DEPLOYMENT
    deployments = {
        d["metadata"].get("labels", {}).get(names.LABEL_DEPLOYMENT): d
        for d in kube.list(res.DEPLOYMENT, namespace, label_selector=selector, keep=rollout.slim)
    }
    replica_sets = kube.list(res.REPLICA_SET, namespace, label_selector=pod_selector, keep=rollout.slim)
    pods = kube.list(res.POD, namespace, label_selector=pod_selector, keep=rollout.slim)
    replica_sets, pods = by_deployment(replica_sets), by_deployment(pods)
    events = by_involved_uid(kube.list(res.EVENT, namespace, keep=rollout.slim))
    for dep_id in waiting:
        deployment = deployments.get(dep_id)
        mine_rs, mine_pods = replica_sets.get(dep_id, []), pods.get(dep_id, [])
        status = rollout.evaluate(deployment, mine_rs, mine_pods)
        if not status.done and expired:
            status = rollout.timed_out(status, timeout)
        related = []
        if deployment:
            candidates = [
                e for obj in [deployment, *mine_rs, *mine_pods] for e in events.get(uid_of(obj), [])
            ]
            related = events_of(kube, namespace, status, deployment, mine_rs, mine_pods, candidates)
        yield dep_id, status, related


def uid_of(obj: dict) -> str | None:
    return obj["metadata"].get("uid")


def by_deployment(objects: list[dict]) -> dict[str, list[dict]]:
    """Objects grouped by their deployment label (pods and ReplicaSets carry it from the pod template)."""
    grouped: dict[str, list[dict]] = {}
    for obj in objects:
        grouped.setdefault((obj["metadata"].get("labels") or {}).get(names.LABEL_DEPLOYMENT), []).append(obj)
    return grouped


def by_involved_uid(events: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for event in events:
        grouped.setdefault((event.get("involvedObject") or {}).get("uid"), []).append(event)
    return grouped


def events_of(kube, namespace, status, deployment, replica_sets, pods, events) -> list[dict]:
    """Events related to a deployment. When the status names a failing pod, wait briefly (bounded) for the
    Warning event about it: a kubelet posts it a moment after the pod status that shows the failure."""
    related = rollout.related_events(events, deployment, replica_sets, pods)
    for _try in range(EVENT_SETTLE_TRIES if status.state == "failed" and status.pod else 0):
        if any(e.get("type") == "Warning" and e["involvedObject"].get("name") == status.pod for e in related):
            break
        time.sleep(EVENT_SETTLE_SLEEP)
        related = rollout.related_events(kube.list(res.EVENT, namespace), deployment, replica_sets, pods)
    return related
