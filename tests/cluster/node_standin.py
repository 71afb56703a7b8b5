#!/usr/bin/env python3
"""Node stand-in of the local test cluster (the kwok approach): fake kubelets without containers.

Registers Nodes and keeps them Ready (status heartbeat, Lease, no not-ready taints), and drives the pods
bound to them the way a kubelet reports them, so the real controllers see real rollouts. Image tags
ending in `-fail-pull` stay in ImagePullBackOff, tags ending in `-crash` go to CrashLoopBackOff.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
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
FAIL_PULL_SUFFIX = "-fail-pull"
CRASH_SUFFIX = "-crash"

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
    if tag.endswith(FAIL_PULL_SUFFIX):
        return "fail-pull"
    if tag.endswith(CRASH_SUFFIX):
        return "crash"
    return "ok"


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


class PodDriver:
    """Watches the pods bound to the nodes and reports them like a kubelet would."""

    def __init__(self, api_client: client.ApiClient, names: list[str]):
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.names = set(names)
        self.ips: dict[str, str] = {}  # pod uid -> pod IP
        self.hosts = POD_NETWORK.hosts()

    def run(self) -> None:
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
            self.reconcile(pod)
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
                    self.ips.pop(pod.metadata.uid, None)
                elif event["type"] in ("ADDED", "MODIFIED"):
                    self.reconcile(pod)

    def reconcile(self, pod) -> None:
        for _ in range(RETRIES_ON_CONFLICT):
            if pod.spec.node_name not in self.names:
                return
            try:
                if pod.metadata.deletion_timestamp:
                    self.remove(pod)
                else:
                    self.report(pod)
                return
            except ApiException as error:
                if error.status == 404:
                    return
                if error.status != 409:
                    log.warning(
                        "updating pod %s/%s failed: %s", pod.metadata.namespace, pod.metadata.name, error
                    )
                    return
            try:
                pod = self.core.read_namespaced_pod(
                    pod.metadata.name, pod.metadata.namespace, _request_timeout=REQUEST_TIMEOUT_SECONDS
                )
            except ApiException:
                return

    def remove(self, pod) -> None:
        options = client.V1DeleteOptions(
            grace_period_seconds=0, preconditions=client.V1Preconditions(uid=pod.metadata.uid)
        )
        self.core.delete_namespaced_pod(
            pod.metadata.name, pod.metadata.namespace, body=options, _request_timeout=REQUEST_TIMEOUT_SECONDS
        )
        self.ips.pop(pod.metadata.uid, None)
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

    def report(self, pod) -> None:
        if pod.status and pod.status.phase in ("Succeeded", "Failed"):
            return
        body = self.api_client.sanitize_for_serialization(pod)
        current = body.get("status") or {}
        desired = desired_status(body, current, self.pod_ip(pod))
        if summary(desired) == summary(current):
            return
        body["status"] = desired
        self.core.replace_namespaced_pod_status(
            pod.metadata.name, pod.metadata.namespace, body, _request_timeout=REQUEST_TIMEOUT_SECONDS
        )
        log.info("pod %s/%s is %s", pod.metadata.namespace, pod.metadata.name, desired["phase"])
        self.record_events(body, current, desired)

    def record_events(self, pod: dict, current: dict, desired: dict) -> None:
        before = {
            s["name"]: s
            for s in current.get("initContainerStatuses", []) + current.get("containerStatuses", [])
        }
        for status in desired.get("initContainerStatuses", []) + desired["containerStatuses"]:
            reason = (status["state"].get("waiting") or {}).get("reason")
            old_reason = ((before.get(status["name"]) or {}).get("state", {}).get("waiting") or {}).get(
                "reason"
            )
            if reason == old_reason:
                continue
            if reason == "ImagePullBackOff":
                image = status["image"]
                message = (
                    f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and '
                    f'unpack image "{image}": failed to resolve reference "{image}": {image}: not found'
                )
                self.event(pod, status["name"], "Failed", message)
            elif reason == "CrashLoopBackOff":
                self.event(pod, status["name"], "BackOff", "Back-off restarting failed container")

    def event(self, pod: dict, container: str, reason: str, message: str) -> None:
        meta = pod["metadata"]
        stamp = now()
        body = {
            "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": meta["namespace"]},
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
            "type": "Warning",
            "source": {"component": "kubelet", "host": pod["spec"]["nodeName"]},
            "reportingComponent": "kubelet",
            "reportingInstance": pod["spec"]["nodeName"],
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        try:
            self.core.create_namespaced_event(
                meta["namespace"], body, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        except ApiException as error:
            log.warning("recording event %s for %s failed: %s", reason, meta["name"], error)


def container_status(pod: dict, container: dict, fate: str, stamp: str) -> dict:
    """A kubelet-like container status; fate is ok, done, crash, fail-pull or initializing."""
    name, image = container["name"], container["image"]
    status = {"name": name, "image": image, "imageID": "", "ready": False, "restartCount": 0, "lastState": {}}
    if fate == "fail-pull":
        status["state"] = {
            "waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
        }
        return status
    if fate == "initializing":
        status["state"] = {"waiting": {"reason": "PodInitializing"}}
        return status
    runtime_id = "containerd://" + digest(pod["metadata"]["uid"], name)
    status["imageID"] = f"{image.split('@', 1)[0].rsplit(':', 1)[0]}@sha256:{digest('image', image)}"
    status["containerID"] = runtime_id
    if fate == "crash":
        meta = pod["metadata"]
        message = f"back-off 10s restarting failed container={name} pod={meta['name']}_{meta['uid']}"
        exited = {
            "exitCode": 1,
            "reason": "Error",
            "startedAt": stamp,
            "finishedAt": stamp,
            "containerID": runtime_id,
        }
        status.update(restartCount=1, state={"waiting": {"reason": "CrashLoopBackOff", "message": message}})
        status["lastState"] = {"terminated": exited}
    elif fate == "done":
        exited = {
            "exitCode": 0,
            "reason": "Completed",
            "startedAt": stamp,
            "finishedAt": stamp,
            "containerID": runtime_id,
        }
        status.update(ready=True, state={"terminated": exited})
    else:
        status.update(ready=True, state={"running": {"startedAt": stamp}})
    return status


def condition(kind: str, ok: bool, current: dict, reason: str = "", message: str = "") -> dict:
    previous = next((c for c in current.get("conditions") or [] if c["type"] == kind), {})
    value = "True" if ok else "False"
    stamp = previous.get("lastTransitionTime") if previous.get("status") == value else None
    result = {"type": kind, "status": value, "lastProbeTime": None, "lastTransitionTime": stamp or now()}
    if not ok:
        result.update(reason=reason, message=message)
    return result


def desired_status(pod: dict, current: dict, pod_ip: str) -> dict:
    """The status a kubelet would report now; all container timestamps derive from the pod start."""
    stamp = current.get("startTime") or now()
    init_statuses, blocked = [], []
    for container in pod["spec"].get("initContainers") or []:
        fate = fate_of(container["image"])
        if blocked:
            fate = "initializing"
        elif fate != "ok":
            blocked.append(container["name"])
        else:
            fate = "done"
        init_statuses.append(container_status(pod, container, fate, stamp))
    statuses = []
    for container in pod["spec"]["containers"]:
        fate = "initializing" if blocked else fate_of(container["image"])
        status = container_status(pod, container, fate, stamp)
        status["started"] = status["ready"]
        statuses.append(status)
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
        startTime=stamp,
        containerStatuses=statuses,
    )
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    return status


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
