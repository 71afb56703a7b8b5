"""The deploy lock's decisions on a coordination.k8s.io Lease (pure): take, renew, take over, or wait."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.render.kinds import LEASE

UTC = datetime.timezone.utc  # noqa: UP017 - modules also run on Python 3.9 targets (no datetime.UTC)
LOCK_NAME = "octo-deploy-lock"
MICROTIME = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class Holding:
    holder: str
    renewed: float  # epoch seconds of the last renewal (or acquisition)
    ttl: int
    acquired: float
    transitions: int

    def expires(self) -> float:
        return self.renewed + self.ttl


def microtime(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, UTC).strftime(MICROTIME)


def _epoch(stamp) -> float:
    if not stamp:
        return 0.0
    text = stamp.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text).timestamp()


def holding(lease: dict | None) -> Holding | None:
    """Who holds the Lease, or None when it is absent or released (no holder)."""
    spec = (lease or {}).get("spec") or {}
    if not spec.get("holderIdentity"):
        return None
    renewed = _epoch(spec.get("renewTime") or spec.get("acquireTime"))
    return Holding(
        holder=spec["holderIdentity"],
        renewed=renewed,
        ttl=int(spec.get("leaseDurationSeconds") or 0),
        acquired=_epoch(spec.get("acquireTime")) or renewed,
        transitions=int(spec.get("leaseTransitions") or 0),
    )


def decide(current: Holding | None, holder: str, now: float) -> str:
    """take (free), renew (ours), takeover (another holder's lease expired) or busy."""
    if current is None:
        return "take"
    if current.holder == holder:
        return "renew"
    if current.expires() <= now:
        return "takeover"
    return "busy"


def lease_object(
    namespace: str, holder: str, ttl: int, now: float, current: Holding | None, lease: dict | None
):
    """The Lease to write for a take, renew or takeover; the resourceVersion makes the write conditional."""
    ours = current is not None and current.holder == holder
    transitions = (current.transitions if current else 0) + (0 if ours or current is None else 1)
    metadata = {
        "name": LOCK_NAME,
        "namespace": namespace,
        "labels": {"app.kubernetes.io/managed-by": "octo.platform"},
    }
    if lease is not None:
        metadata["resourceVersion"] = lease["metadata"]["resourceVersion"]
    return {
        **LEASE.header,
        "metadata": metadata,
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": ttl,
            "acquireTime": microtime(current.acquired if ours else now),
            "renewTime": microtime(now),
            "leaseTransitions": transitions,
        },
    }


def describe(current: Holding, now: float) -> str:
    """The holder as progress lines and errors name it."""
    left = int(current.expires() - now)
    return f"{current.holder} (held {int(now - current.acquired)}s, expires in {max(left, 0)}s)"
