"""Poll a Deployment's rollout until it completes, fails or times out (predicates live in render.rollout)."""

from __future__ import annotations

import time

from ansible_collections.octo.platform.plugins.module_utils.kube.resources import (
    DEPLOYMENT,
    EVENT,
    POD,
    REPLICA_SET,
)
from ansible_collections.octo.platform.plugins.module_utils.render import rollout


def label_selector(labels: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def observe(kube, namespace: str, name: str, selector: dict, with_events: bool = True) -> dict:
    """One look at a deployment: its rollout status and the events about it."""
    deployment = kube.get(DEPLOYMENT, name, namespace)
    if deployment is None:
        return {"status": rollout.evaluate(None, [], []), "events": []}
    sel = label_selector(selector)
    replica_sets = kube.list(REPLICA_SET, namespace, label_selector=sel)
    pods = kube.list(POD, namespace, label_selector=sel)
    events = kube.list(EVENT, namespace) if with_events else []
    return {
        "status": rollout.evaluate(deployment, replica_sets, pods),
        "events": [
            rollout.summarize_event(e) for e in rollout.related_events(events, deployment, replica_sets, pods)
        ],
        "deployment": deployment,
        "pods": pods,
    }


class Watch:
    """Accumulates a timeline of status lines and new events across observations."""

    def __init__(self, name: str, on_line=None, clock=time.monotonic):
        self.name = name
        self.timeline: list[dict] = []
        self._on_line = on_line or (lambda line: None)
        self._seen: set = set()
        self._last_line = None
        self._clock = clock
        self._start = clock()

    @property
    def elapsed(self) -> float:
        return round(self._clock() - self._start, 1)

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


def wait_for_rollout(kube, namespace, name, selector, timeout, sleep, on_line=None, clock=time.monotonic):
    """Returns (status, timeline, events). Stops early on complete or on a failure that cannot recover."""
    watch = Watch(name, on_line, clock)
    deadline = clock() + timeout
    while True:
        observation = observe(kube, namespace, name, selector)
        watch.record(observation)
        status = observation["status"]
        if status.done:
            return status, watch.timeline, observation["events"]
        if clock() >= deadline:
            return rollout.timed_out(status, timeout), watch.timeline, observation["events"]
        time.sleep(max(0.0, min(sleep, deadline - clock())))
