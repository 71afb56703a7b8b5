"""The API resources this collection uses, from the registry in render.kinds (no discovery round trip)."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.render.kinds import (
    BY_KIND,
    CONFIG_MAP,
    DEPLOYMENT,
    EVENT,
    INGRESS,
    MANAGED,
    NAMESPACE,
    POD,
    REPLICA_SET,
    SECRET,
    SERVICE,
)
from ansible_collections.octo.platform.plugins.module_utils.render.kinds import Kind as Resource
from ansible_collections.octo.platform.plugins.module_utils.render.kinds import kind_of as resource_for

__all__ = [
    "BY_KIND",
    "CONFIG_MAP",
    "DEPLOYMENT",
    "EVENT",
    "INGRESS",
    "MANAGED",
    "NAMESPACE",
    "POD",
    "REPLICA_SET",
    "SECRET",
    "SERVICE",
    "Resource",
    "resource_for",
]
