"""Poll a Deployment's rollout until it completes, fails or times out (predicates live in render.rollout)."""

from __future__ import annotations

import time

from ansible_collections.octo.platform.plugins.module_utils.kube.resources import EVENT
from ansible_collections.octo.platform.plugins.module_utils.render import rollout

EVENT_SETTLE_TRIES = 4
EVENT_SETTLE_SLEEP = 0.5


def label_selector(labels: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


class Watch:
    """Accumulates a timeline of status lines and new events across observations."""

    def __init__(self, name: str, on_line=None):
        self.name = name
        self.timeline: list[dict] = []
        self._on_line = on_line or (lambda line: None)
        self._seen: set = set()
        self._last_line = None
        self._start = time.monotonic()

    @property
    def elapsed(self) -> float:
        return round(time.monotonic() - self._start, 1)

    def record(self, observation: dict) -> None:
        """observation: {"status": RolloutStatus, "events": [summarized events]}."""
        elapsed = self.elapsed
        line = rollout.progress_line(self.name, observation["status"])
        if line != self._last_line:
            self._last_line = line
            self.timeline.append({"t": elapsed, "status": line})
            self._on_line(line)
        for event in observation["events"]:
            key = rollout.event_key(event)
            if key in self._seen:
                continue
            self._seen.add(key)
            self.timeline.append({"t": elapsed, "event": event})
            self._on_line(
                f"{self.name}: {event['type']} {event['reason']} {event['object']}: {event['message']}"
            )


def events_of(kube, namespace, status, deployment, replica_sets, pods, events) -> list[dict]:
    """Events related to a deployment. When the status names a failing pod, wait briefly (bounded) for the
    Warning event about it: a kubelet posts it a moment after the pod status that shows the failure."""
    related = rollout.related_events(events, deployment, replica_sets, pods)
    for _ in range(EVENT_SETTLE_TRIES if status.state == "failed" and status.pod else 0):
        if any(e.get("type") == "Warning" and e["involvedObject"].get("name") == status.pod for e in related):
            break
        time.sleep(EVENT_SETTLE_SLEEP)
        related = rollout.related_events(kube.list(EVENT, namespace), deployment, replica_sets, pods)
    return related
