"""Profile the bulk converge in one process (cProfile): first deploy, then a no-op, of N integrations.

    OCTO_CLUSTER_DIR=... .venv/bin/python bench/profile_converge.py 1000 [--wait]

Prints each phase's wall time and its top functions by own time and by cumulative time; the namespace is
deleted afterwards. Findings go to bench/profile.md.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import secrets
import sys
import time

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from run import BASE_DOMAIN, IMAGE, KUBECONFIG, items

from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.integrations import converge
from ansible_collections.octo.platform.plugins.modules.integrations import ARGUMENT_SPEC

TOP = 14


def params(count: int, namespace: str, wait: bool) -> dict:
    given = {
        "kubeconfig": KUBECONFIG,
        "namespace": namespace,
        "image": IMAGE,
        "base_domain": BASE_DOMAIN,
        "tls_mode": "none",
        "wait": wait,
        "wait_timeout": 900,
        "integrations": items(count),
    }
    return ArgumentSpecValidator(ARGUMENT_SPEC).validate(given).validated_parameters


def profiled(label: str, given: dict) -> None:
    profile = cProfile.Profile()
    began = time.monotonic()
    result = profile.runcall(converge, given)
    print(f"== {label}: {time.monotonic() - began:.2f} s wall, requests {result['api_requests']}")
    stats = pstats.Stats(profile, stream=sys.stdout).strip_dirs()
    stats.sort_stats("tottime").print_stats(TOP)
    stats.sort_stats("cumulative").print_stats(TOP)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--wait", action="store_true")
    args = parser.parse_args()
    namespace = f"bench-profile-{secrets.token_hex(2)}"
    try:
        profiled(f"first deploy N={args.count}", params(args.count, namespace, args.wait))
        profiled(f"no-op N={args.count}", params(args.count, namespace, args.wait))
    finally:
        Kube({"kubeconfig": KUBECONFIG}).delete(res.NAMESPACE, namespace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
