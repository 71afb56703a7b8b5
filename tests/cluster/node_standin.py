#!/usr/bin/env python3
"""Node stand-in of the local test cluster (the kwok approach): fake kubelets without containers.

Registers Nodes and keeps them Ready (status heartbeat, Lease, no not-ready taints), and drives the pods
bound to them the way a kubelet reports them, so the real controllers see real rollouts:

- A container with a readinessProbe runs but is not Ready until the probe's initialDelaySeconds (at most
  10 s, not scaled) has passed, and never in its first Running report; without a probe it is Ready at once.
- Image tags ending in `-fail-pull` show ErrImagePull (Warning "Failed" events) for 1 s after each failed
  pull, and ImagePullBackOff (a Normal "BackOff" event "Back-off pulling image ..." and a Warning "Failed"
  one, as the kubelet records them) until the next pull.
- Tags ending in `-crash` run for 1 s, exit with code 1 (lastState.terminated, reason Error) and wait in
  CrashLoopBackOff (Warning "BackOff" events "Back-off restarting failed container") until the next run;
  restartCount counts the crashes.
- Tags ending in `-never-ready` run and are never Ready.
- A deleted pod keeps running through its grace period; then its containers exit and it is removed.
- Repeated events count up, as the kubelet's event correlator does.

Time scale: kubelet durations pass TIME_SCALE = 0.1 times as long here (10x faster): the back-off between
pulls or runs is 1, 2, 4, ... s up to 30 s (kubelet: 10 s doubling up to 5 min), and a deleted pod is
removed after min(deletionGracePeriodSeconds / 10, 3 s) (for the default grace of 30 s: 3 s).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import heapq
import ipaddress
import logging
import platform
import secrets
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

USER_AGENT = "octo-node-standin"

HEARTBEAT_SECONDS = 10
TAINT_CHECK_SECONDS = 2
LEASE_DURATION_SECONDS = 40
WATCH_TIMEOUT_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 30
RETRIES_ON_CONFLICT = 5
NODE_IP = "127.0.0.1"
POD_NETWORK = ipaddress.ip_network("10.244.0.0/16")
KUBE_VERSION = "v1.20.2"
CAPACITY = {
    "cpu": "512",
    "memory": "2Ti",
    "pods": "5000",
    "ephemeral-storage": "10Ti",
}  # no real pods run here
NOT_READY_TAINTS = {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}
TIME_SCALE = 0.1  # kubelet durations (crash back-off, termination grace) pass 10x faster here
GRACE_CAP_SECONDS = 3.0  # a deleted pod goes after min(its grace period * TIME_SCALE, this)
READINESS_DELAY_CAP_SECONDS = 10  # a readinessProbe's initialDelaySeconds, at most this (not scaled)
ATTEMPT_SECONDS = 1.0  # how long a crashing container runs, or a failed pull shows ErrImagePull, each time
BACKOFF_SECONDS = (10, 300)  # the kubelet's first back-off (restart, image pull) and its cap, before scaling
FATES = {"-fail-pull": "fail-pull", "-crash": "crash", "-never-ready": "never-ready"}  # by image tag suffix

log = logging.getLogger("node-standin")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def image_tag(image: str) -> str:
    last = image.rsplit("/", 1)[-1].split("@", 1)[0]
    return last.split(":", 1)[1] if ":" in last else "latest"


def fate_of(image: str) -> str:
    tag = image_tag(image)
    return next((fate for suffix, fate in FATES.items() if tag.endswith(suffix)), "ok")


def digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


# --- nodes -----------------------------------------------------------------------------------


class NodeKeeper:
    """Registers the nodes, renews their Leases and status heartbeats, strips not-ready taints."""

    def __init__(self, api_client: client.ApiClient, names: list[str]):
        self.core = client.CoreV1Api(api_client)
        self.leases = client.CoordinationV1Api(api_client)
        self.names = names

    def run(self) -> None:
        last_heartbeat = 0.0
        while True:
            heartbeat = time.monotonic() - last_heartbeat >= HEARTBEAT_SECONDS
            for name in self.names:
                try:
                    self.keep(name, heartbeat)
                except Exception as error:
                    log.warning("keeping node %s failed (%s); retrying", name, error)
            if heartbeat:
                last_heartbeat = time.monotonic()
            time.sleep(TAINT_CHECK_SECONDS)

    def keep(self, name: str, heartbeat: bool) -> None:
        try:
            node = self.core.read_node(name, _request_timeout=REQUEST_TIMEOUT_SECONDS)
        except ApiException as error:
            if error.status != 404:
                raise
            node = self.core.create_node(self.node_body(name), _request_timeout=REQUEST_TIMEOUT_SECONDS)
            log.info("registered node %s", name)
            heartbeat = True
        if heartbeat:
            self.core.patch_node_status(
                name, {"status": self.node_status()}, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
            self.renew_lease(name, node.metadata.uid)
        taints = node.spec.taints or []
        kept = [t for t in taints if t.key not in NOT_READY_TAINTS]
        if len(kept) != len(taints):
            node.spec.taints = kept or None
            try:
                self.core.replace_node(name, node, _request_timeout=REQUEST_TIMEOUT_SECONDS)
                log.info("removed not-ready taints from node %s", name)
            except ApiException as error:
                if error.status != 409:
                    raise

    def node_body(self, name: str) -> dict:
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/os": "linux",
                    "beta.kubernetes.io/arch": "amd64",
                    "node.kubernetes.io/instance-type": "octo-standin",
                },
                "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            },
            "spec": {},
            "status": self.node_status(name),
        }

    @staticmethod
    def node_status(name: str | None = None) -> dict:
        stamp = now()
        checks = (
            (
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        )
        status = {
            "conditions": [
                {
                    "type": kind,
                    "status": value,
                    "reason": reason,
                    "message": message,
                    "lastHeartbeatTime": stamp,
                }
                for kind, value, reason, message in checks
            ],
        }
        if name:  # the static part, sent at registration only
            for item in status["conditions"]:
                item["lastTransitionTime"] = stamp
            status.update(
                capacity=CAPACITY,
                allocatable=CAPACITY,
                addresses=[{"type": "InternalIP", "address": NODE_IP}, {"type": "Hostname", "address": name}],
                daemonEndpoints={"kubeletEndpoint": {"Port": 10250}},
                nodeInfo={
                    "machineID": digest("machine", name)[:32],
                    "systemUUID": digest("uuid", name)[:32],
                    "bootID": secrets.token_hex(16),
                    "kernelVersion": platform.release(),
                    "osImage": "octo-platform node stand-in",
                    "containerRuntimeVersion": "containerd://standin",
                    "kubeletVersion": KUBE_VERSION,
                    "kubeProxyVersion": KUBE_VERSION,
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                },
            )
        return status

    def renew_lease(self, name: str, node_uid: str) -> None:
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": name,
                "namespace": "kube-node-lease",
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}],
            },
            "spec": {
                "holderIdentity": name,
                "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                "renewTime": now_micro(),
            },
        }
        try:
            self.leases.patch_namespaced_lease(
                name, "kube-node-lease", {"spec": body["spec"]}, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        except ApiException as error:
            if error.status != 404:
                raise
            self.leases.create_namespaced_lease(
                "kube-node-lease", body, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )


# --- pods ------------------------------------------------------------------------------------


class Timers:
    """Calls back with a key at a wall-clock time; one call per distinct (time, key)."""

    def __init__(self, callback):
        self.callback = callback
        self.due: list[tuple[float, tuple]] = []
        self.pending: set[tuple[float, tuple]] = set()
        self.wakeup = threading.Condition()

    def at(self, when: float, key: tuple) -> None:
        with self.wakeup:
            if (when, key) not in self.pending:
                self.pending.add((when, key))
                heapq.heappush(self.due, (when, key))
                self.wakeup.notify()

    def run(self) -> None:
        while True:
            with self.wakeup:
                while not self.due or self.due[0][0] > time.time():
                    self.wakeup.wait(self.due[0][0] - time.time() if self.due else None)
                entry = heapq.heappop(self.due)
                self.pending.discard(entry)
            try:
                self.callback(entry[1])
            except Exception as error:
                log.warning("timed re-check of pod %s/%s failed (%s)", entry[1][0], entry[1][1], error)


class PodDriver:
    """Watches the pods bound to the nodes and reports them like a kubelet would, re-checking each pod
    when its reported state is due to change (probe passed, back-off over, grace period over)."""

    def __init__(self, api_client: client.ApiClient, names: list[str]):
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.names = set(names)
        self.ips: dict[str, str] = {}  # pod uid -> pod IP
        self.hosts = POD_NETWORK.hosts()
        self.started: dict[str, float] = {}  # pod uid -> when its containers started (epoch seconds)
        self.deleting: dict[str, float] = {}  # pod uid -> when its deletion was first seen (epoch seconds)
        self.recorded: dict[str, dict[tuple, tuple[str, int]]] = {}  # pod uid -> event key -> (name, count)
        self.lock = threading.Lock()  # the watch and the timers report pods one at a time
        self.timers = Timers(self.recheck)

    def run(self) -> None:
        threading.Thread(target=self.timers.run, name="timers", daemon=True).start()
        while True:
            try:
                self.list_and_watch()
            except Exception as error:
                if not (isinstance(error, ApiException) and error.status == 410):
                    log.warning("pod watch failed (%s); relisting", error)
                    time.sleep(2)

    def list_and_watch(self) -> None:
        selector = "spec.nodeName!="
        pods = self.core.list_pod_for_all_namespaces(
            field_selector=selector, _request_timeout=REQUEST_TIMEOUT_SECONDS
        )
        for pod in pods.items:  # learn the addresses in use before handing out new ones
            if pod.status and pod.status.pod_ip and not pod.spec.host_network:
                self.ips.setdefault(pod.metadata.uid, pod.status.pod_ip)
        for pod in pods.items:
            self.handle(pod)
        version = pods.metadata.resource_version
        while True:
            stream = watch.Watch().stream(
                self.core.list_pod_for_all_namespaces,
                field_selector=selector,
                resource_version=version,
                timeout_seconds=WATCH_TIMEOUT_SECONDS,
                _request_timeout=WATCH_TIMEOUT_SECONDS + 15,
            )
            for event in stream:
                pod = event["object"]
                version = pod.metadata.resource_version
                if event["type"] == "DELETED":
                    self.forget(pod.metadata.uid)
                elif event["type"] in ("ADDED", "MODIFIED"):
                    self.handle(pod)

    def handle(self, pod) -> None:
        with self.lock:
            self.reconcile(pod)

    def recheck(self, key: tuple[str, str, str]) -> None:
        namespace, name, uid = key
        with self.lock:
            try:
                pod = self.core.read_namespaced_pod(name, namespace, _request_timeout=REQUEST_TIMEOUT_SECONDS)
            except ApiException as error:
                if error.status == 404:
                    return
                raise
            if pod.metadata.uid == uid:
                self.reconcile(pod)

    def forget(self, uid: str) -> None:
        self.ips.pop(uid, None)
        self.started.pop(uid, None)
        self.deleting.pop(uid, None)
        self.recorded.pop(uid, None)

    def reconcile(self, pod) -> None:
        for _ in range(RETRIES_ON_CONFLICT):
            if pod.spec.node_name not in self.names:
                return
            meta = pod.metadata
            try:
                due = self.terminate(pod) if meta.deletion_timestamp else self.report(pod)
                if due is not None:
                    self.timers.at(due, (meta.namespace, meta.name, meta.uid))
                return
            except ApiException as error:
                if error.status == 404:
                    return
                if error.status != 409:
                    log.warning("updating pod %s/%s failed: %s", meta.namespace, meta.name, error)
                    return
            try:
                pod = self.core.read_namespaced_pod(
                    meta.name, meta.namespace, _request_timeout=REQUEST_TIMEOUT_SECONDS
                )
            except ApiException:
                return

    def terminate(self, pod) -> float | None:
        """A deleted pod runs through its (scaled, capped) grace period; then its containers exit and it is
        removed. Returns when the grace period ends, while it has not."""
        meta = pod.metadata
        seen = self.deleting.setdefault(meta.uid, time.time())  # deletionTimestamp has whole seconds only
        due = seen + scaled_grace(meta.deletion_grace_period_seconds or 0)
        if time.time() < due:
            return due
        body = self.api_client.sanitize_for_serialization(pod)
        current = body.get("status") or {}
        stopped = stopped_status(current)
        if summary(stopped) != summary(current):
            body["status"] = stopped
            self.core.replace_namespaced_pod_status(
                meta.name, meta.namespace, body, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        self.remove(pod)
        return None

    def remove(self, pod) -> None:
        options = client.V1DeleteOptions(
            grace_period_seconds=0, preconditions=client.V1Preconditions(uid=pod.metadata.uid)
        )
        self.core.delete_namespaced_pod(
            pod.metadata.name, pod.metadata.namespace, body=options, _request_timeout=REQUEST_TIMEOUT_SECONDS
        )
        self.forget(pod.metadata.uid)
        log.info("removed pod %s/%s", pod.metadata.namespace, pod.metadata.name)

    def pod_ip(self, pod) -> str:
        if pod.spec.host_network:
            return NODE_IP
        uid = pod.metadata.uid
        if uid not in self.ips:
            current = pod.status.pod_ip if pod.status else None
            taken = set(self.ips.values())
            self.ips[uid] = current if current and current not in taken else self.free_ip(taken)
        return self.ips[uid]

    def free_ip(self, taken: set[str]) -> str:
        for _ in range(POD_NETWORK.num_addresses):
            ip = next(self.hosts, None)
            if ip is None:
                self.hosts = POD_NETWORK.hosts()
            elif str(ip) not in taken:
                return str(ip)
        raise RuntimeError(f"no free address left in {POD_NETWORK}")

    def start_of(self, uid: str, current: dict) -> float:
        """When the pod's containers started: first seen here, or its startTime after a restart of ours."""
        if uid not in self.started:
            start_time = current.get("startTime")
            self.started[uid] = parse_time(start_time) if start_time else time.time()
        return self.started[uid]

    def report(self, pod) -> float | None:
        """Write the pod status a kubelet would report now; return when it changes next."""
        if pod.status and pod.status.phase in ("Succeeded", "Failed"):
            return None
        body = self.api_client.sanitize_for_serialization(pod)
        current = body.get("status") or {}
        started = self.start_of(pod.metadata.uid, current)
        desired, due = desired_status(body, current, self.pod_ip(pod), started, time.time())
        if summary(desired) == summary(current):
            return due
        body["status"] = desired
        self.core.replace_namespaced_pod_status(
            pod.metadata.name, pod.metadata.namespace, body, _request_timeout=REQUEST_TIMEOUT_SECONDS
        )
        log.info("pod %s/%s is %s", pod.metadata.namespace, pod.metadata.name, describe(desired))
        self.record_events(body, current, desired)
        return due

    def record_events(self, pod: dict, current: dict, desired: dict) -> None:
        before = {s["name"]: s for s in all_statuses(current)}
        for status in all_statuses(desired):
            old = before.get(status["name"]) or {}
            reason = waiting_reason(status)
            if reason == waiting_reason(old) and status["restartCount"] == old.get("restartCount"):
                continue
            for kind, event_reason, message in kubelet_events(reason, status["image"]):
                self.event(pod, status["name"], kind, event_reason, message)

    def event(self, pod: dict, container: str, kind: str, reason: str, message: str) -> None:
        """Record an event; a repeated one counts up, as the kubelet's event correlator does."""
        meta = pod["metadata"]
        recorded = self.recorded.setdefault(meta["uid"], {})
        key = (container, kind, reason, message)
        try:
            if key in recorded:
                name, count = recorded[key]
                patch = {"count": count + 1, "lastTimestamp": now()}
                self.core.patch_namespaced_event(
                    name, meta["namespace"], patch, _request_timeout=REQUEST_TIMEOUT_SECONDS
                )
            else:
                name, count = f"{meta['name']}.{secrets.token_hex(8)}", 0
                body = event_body(pod, name, container, kind, reason, message)
                self.core.create_namespaced_event(
                    meta["namespace"], body, _request_timeout=REQUEST_TIMEOUT_SECONDS
                )
            recorded[key] = (name, count + 1)
        except ApiException as error:
            log.warning("recording event %s for %s failed: %s", reason, meta["name"], error)


def event_body(pod: dict, name: str, container: str, kind: str, reason: str, message: str) -> dict:
    meta, stamp = pod["metadata"], now()
    return {
        "metadata": {"name": name, "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "fieldPath": f"spec.containers{{{container}}}",
        },
        "reason": reason,
        "message": message,
        "type": kind,
        "source": {"component": "kubelet", "host": pod["spec"]["nodeName"]},
        "reportingComponent": "kubelet",
        "reportingInstance": pod["spec"]["nodeName"],
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


def scaled_grace(grace: int) -> float:
    """How long a deleted pod runs on here: its grace period scaled by TIME_SCALE, at most GRACE_CAP_SECONDS."""
    return min(grace * TIME_SCALE, GRACE_CAP_SECONDS)


def stopped_status(current: dict) -> dict:
    """The status once the running containers exited on SIGTERM: terminated (exit code 0), not ready."""
    statuses = []
    for status in current.get("containerStatuses") or []:
        running = (status.get("state") or {}).get("running")
        if running:
            exited = {
                "exitCode": 0,
                "reason": "Completed",
                "startedAt": running.get("startedAt"),
                "finishedAt": now(),
                "containerID": status.get("containerID"),
            }
            status = {**status, "ready": False, "started": False, "state": {"terminated": exited}}
        statuses.append(status)
    message = "containers with unready status: [" + " ".join(s["name"] for s in statuses) + "]"
    conditions = [
        condition(c["type"], False, current, "ContainersNotReady", message)
        if c["type"] in ("Ready", "ContainersReady")
        else c
        for c in current.get("conditions") or []
    ]
    return {**current, "conditions": conditions, "containerStatuses": statuses}


def pull_error(image: str) -> str:
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}": {image}: not found'
    )


def kubelet_events(waiting: str | None, image: str) -> list[tuple[str, str, str]]:
    """(type, reason, message) of the events a kubelet records as a container enters a waiting state."""
    if waiting == "ErrImagePull":
        return [
            ("Warning", "Failed", f'Failed to pull image "{image}": {pull_error(image)}'),
            ("Warning", "Failed", "Error: ErrImagePull"),
        ]
    if waiting == "ImagePullBackOff":  # the kubelet records this BackOff as Normal, the Failed as Warning
        return [
            ("Normal", "BackOff", f'Back-off pulling image "{image}"'),
            ("Warning", "Failed", "Error: ImagePullBackOff"),
        ]
    if waiting == "CrashLoopBackOff":
        return [("Warning", "BackOff", "Back-off restarting failed container")]
    return []


def parse_time(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def at(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def all_statuses(status: dict) -> list[dict]:
    return (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])


def waiting_reason(status: dict) -> str | None:
    return ((status.get("state") or {}).get("waiting") or {}).get("reason")


def back_off(failures: int) -> float:
    """The kubelet's back-off after the n-th failure of a container start or image pull (10 s doubling up
    to 5 min), scaled."""
    first, cap = BACKOFF_SECONDS
    return min(first * 2 ** (failures - 1), cap) * TIME_SCALE


def attempts(elapsed: float) -> tuple[list[tuple[float, float]], float]:
    """The failing attempts (start, end) up to `elapsed` of a crashing run or an image pull, each taking
    ATTEMPT_SECONDS and retried after the back-off; and when the next one starts."""
    done, start = [], 0.0
    while start <= elapsed:
        done.append((start, start + ATTEMPT_SECONDS))
        start = done[-1][1] + back_off(len(done))
    return done, start


def readiness(container: dict, previous: dict, elapsed: float) -> tuple[bool, float | None]:
    """Ready once the readinessProbe's initialDelaySeconds (capped) has passed, never in the first report
    of the running container (its probe has not run yet); else when to look again."""
    probe = container.get("readinessProbe")
    if probe is None:
        return True, None
    delay = min(probe.get("initialDelaySeconds") or 0, READINESS_DELAY_CAP_SECONDS)
    if "running" in (previous.get("state") or {}) and elapsed >= delay:
        return True, None
    return False, delay


def pull_failure(status: dict, elapsed: float) -> tuple[dict, float]:
    """ErrImagePull after each failed pull, ImagePullBackOff until the next pull."""
    image = status["image"]
    pulls, retry = attempts(elapsed)
    if elapsed < pulls[-1][1]:
        status["state"] = {"waiting": {"reason": "ErrImagePull", "message": pull_error(image)}}
        return status, pulls[-1][1]
    status["state"] = {
        "waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
    }
    return status, retry


def crash_loop(pod: dict, status: dict, started: float, elapsed: float) -> tuple[dict, float]:
    """Runs ending with exit code 1, CrashLoopBackOff between them."""
    runs, start = attempts(elapsed)
    meta, name = pod["metadata"], status["name"]

    def exited(run: int) -> dict:
        begin, end = runs[run]
        return {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": at(started + begin),
                "finishedAt": at(started + end),
                "containerID": runtime_id(meta["uid"], name, run),
            }
        }

    begin, end = runs[-1]
    status["containerID"] = runtime_id(meta["uid"], name, len(runs) - 1)
    if elapsed < end:
        status.update(
            started=True, restartCount=len(runs) - 1, state={"running": {"startedAt": at(started + begin)}}
        )
        status["lastState"] = exited(len(runs) - 2) if len(runs) > 1 else {}
        return status, end
    delay = back_off(len(runs))
    message = f"back-off {delay:g}s restarting failed container={name} pod={meta['name']}_{meta['uid']}"
    status.update(
        restartCount=len(runs), state={"waiting": {"reason": "CrashLoopBackOff", "message": message}}
    )
    status["lastState"] = exited(len(runs) - 1)
    return status, start


def runtime_id(uid: str, container: str, run: int = 0) -> str:
    return "containerd://" + digest(uid, container, str(run))


def container_status(
    pod: dict, container: dict, fate: str, started: float, elapsed: float, previous: dict
) -> tuple[dict, float | None]:
    """A kubelet-like container status `elapsed` seconds after the pod started, and the elapsed time at
    which it changes next (None: never by itself); fate: ok, a FATES value, done or initializing."""
    name, image = container["name"], container["image"]
    status = {"name": name, "image": image, "imageID": "", "ready": False, "started": False}
    status.update(restartCount=0, lastState={})
    if fate == "initializing":
        status["state"] = {"waiting": {"reason": "PodInitializing"}}
        return status, None
    if fate == "fail-pull":
        return pull_failure(status, elapsed)
    status["imageID"] = f"{image.split('@', 1)[0].rsplit(':', 1)[0]}@sha256:{digest('image', image)}"
    status["containerID"] = runtime_id(pod["metadata"]["uid"], name)
    if fate == "crash":
        return crash_loop(pod, status, started, elapsed)
    if fate == "done":
        exited = {"exitCode": 0, "reason": "Completed", "startedAt": at(started), "finishedAt": at(started)}
        status.update(ready=True, state={"terminated": {**exited, "containerID": status["containerID"]}})
        return status, None
    ready, change = readiness(container, previous, elapsed) if fate == "ok" else (False, None)
    status.update(ready=ready, started=True, state={"running": {"startedAt": at(started)}})
    return status, change


def condition(kind: str, ok: bool, current: dict, reason: str = "", message: str = "") -> dict:
    previous = next((c for c in current.get("conditions") or [] if c["type"] == kind), {})
    value = "True" if ok else "False"
    stamp = previous.get("lastTransitionTime") if previous.get("status") == value else None
    result = {"type": kind, "status": value, "lastProbeTime": None, "lastTransitionTime": stamp or now()}
    if not ok:
        result.update(reason=reason, message=message)
    return result


def container_statuses(pod: dict, current: dict, started: float, elapsed: float) -> tuple[list, list, list]:
    """(init container statuses, main container statuses, elapsed times at which one changes next)."""
    previous = {s["name"]: s for s in current.get("containerStatuses") or []}
    init_statuses, statuses, changes = [], [], []
    blocked = False
    for container in pod["spec"].get("initContainers") or []:
        fate = fate_of(container["image"])
        fate = "initializing" if blocked else ("done" if fate in ("ok", "never-ready") else fate)
        status, change = container_status(pod, container, fate, started, elapsed, {})
        blocked = blocked or fate not in ("done", "initializing")
        init_statuses.append(status)
        changes.append(change)
    for container in pod["spec"]["containers"]:
        fate = "initializing" if blocked else fate_of(container["image"])
        previous_status = previous.get(container["name"]) or {}
        status, change = container_status(pod, container, fate, started, elapsed, previous_status)
        statuses.append(status)
        changes.append(change)
    return init_statuses, statuses, [c for c in changes if c is not None]


def desired_status(
    pod: dict, current: dict, pod_ip: str, started: float, clock: float
) -> tuple[dict, float | None]:
    """The status a kubelet would report at `clock` for a pod whose containers started at `started`
    (epoch seconds), and when it changes next (None: never by itself)."""
    init_statuses, statuses, changes = container_statuses(pod, current, started, clock - started)
    blocked = [s["name"] for s in init_statuses if "terminated" not in s["state"]]
    unready = [s["name"] for s in statuses if not s["ready"]]
    # Like the kubelet: Pending while a container waits that never ran, Running once all have run.
    never_ran = any("waiting" in s["state"] and not s["lastState"] for s in statuses)
    unready_message = f"containers with unready status: [{' '.join(unready)}]"
    blocked_message = f"containers with incomplete status: [{' '.join(blocked)}]"
    status = dict(current)
    status.update(
        phase="Pending" if blocked or never_ran else "Running",
        conditions=[
            condition("Initialized", not blocked, current, "ContainersNotInitialized", blocked_message),
            condition("Ready", not unready, current, "ContainersNotReady", unready_message),
            condition("ContainersReady", not unready, current, "ContainersNotReady", unready_message),
            condition("PodScheduled", True, current),
        ],
        hostIP=NODE_IP,
        podIP=pod_ip,
        podIPs=[{"ip": pod_ip}],
        startTime=at(started),
        containerStatuses=statuses,
    )
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    return status, (started + min(changes) if changes else None)


def describe(status: dict) -> str:
    """A log line's view of a pod status: phase, readiness, waiting reasons and restarts."""
    ready = {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    details = [
        f"{s['name']}: {waiting_reason(s) or next(iter(s['state']))}, restarts {s['restartCount']}"
        for s in all_statuses(status)
    ]
    return f"{status['phase']}, {'ready' if ready else 'not ready'} ({'; '.join(details)})"


def summary(status: dict) -> tuple:
    """What decides whether the pod status needs writing (timestamps excluded)."""

    def of(statuses):
        return tuple(
            (
                s.get("name"),
                tuple(s.get("state") or {}),
                ((s.get("state") or {}).get("waiting") or {}).get("reason"),
                s.get("ready"),
                s.get("restartCount"),
            )
            for s in statuses or []
        )

    return (
        status.get("phase"),
        status.get("podIP"),
        tuple(sorted((c["type"], c["status"]) for c in status.get("conditions") or [])),
        of(status.get("initContainerStatuses")),
        of(status.get("containerStatuses")),
    )


def _client(kubeconfig: str) -> client.ApiClient:
    """An API client whose requests the benchmark can tell apart in the audit log."""
    api_client = config.new_client_from_config(config_file=kubeconfig)
    api_client.user_agent = USER_AGENT
    return api_client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--node", action="append", required=True, dest="nodes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # its retry warnings repeat ours
    keeper = NodeKeeper(_client(args.kubeconfig), args.nodes)
    threading.Thread(target=keeper.run, name="nodes", daemon=True).start()
    PodDriver(_client(args.kubeconfig), args.nodes).run()


if __name__ == "__main__":
    main()
