#!/usr/bin/env python3
"""The local Octo runtime images: build them (cached) and import them into a real node's containerd.

`octo-runtime/` (Go, stdlib only) is compiled once per source hash into a static binary, then packed by
`image_builder` into three one-layer images that differ only in their baked env:

    octo.local/octo-runtime:dev        serves (or works) until SIGTERM
    octo.local/octo-runtime:dev-crash  exits 1 after a second, every start (CrashLoopBackOff)
    octo.local/octo-runtime:dev-flaky  exits 1 once per pod, then serves (a rollout that must succeed)

`octo.local/does-not-exist:1` is never built: pulling it fails (ErrImagePull, ImagePullBackOff).

    python tests/images/runtime_images.py [--import]   # --import: into the real node of OCTO_CLUSTER_DIR
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from images.image_builder import CACHE_DIR, ImageError, build_image, import_image

SOURCE_DIR = HERE / "octo-runtime"
BINARY_PATH = "/octo-runtime"
IMAGE = "octo.local/octo-runtime:dev"
CRASH_IMAGE = "octo.local/octo-runtime:dev-crash"
FLAKY_IMAGE = "octo.local/octo-runtime:dev-flaky"
MISSING_IMAGE = "octo.local/does-not-exist:1"
VARIANTS = {IMAGE: {}, CRASH_IMAGE: {"OCTO_RUNTIME_CRASH": "1"}, FLAKY_IMAGE: {"OCTO_RUNTIME_FLAKY": "1"}}
BUILD_TIMEOUT_SECONDS = 600


def source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(SOURCE_DIR.iterdir()):
        digest.update(f"\0{path.name}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def build_binary() -> Path:
    """The static runtime binary, compiled with the Debian Go toolchain without fetching any module."""
    target = CACHE_DIR / f"octo-runtime-{source_hash()[:16]}"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "", "GOPROXY": "off", "GO111MODULE": "on"}
    argv = ["go", "build", "-trimpath", "-ldflags=-s -w", "-o", str(partial), "."]
    try:
        result = subprocess.run(
            argv, cwd=SOURCE_DIR, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS
        )
    except FileNotFoundError:
        raise ImageError("Failed to build the octo-runtime binary: go is not installed (golang-go)") from None
    if result.returncode != 0:
        raise ImageError(f"Failed to build the octo-runtime binary: {result.stderr.strip()}")
    partial.replace(target)
    return target


def build_images() -> dict[str, Path]:
    """Every runtime image variant: reference -> tarball (cached by the builder)."""
    binary = build_binary().read_bytes()
    files = {BINARY_PATH: (binary, 0o755)}
    return {ref: build_image(ref, files, [BINARY_PATH], env=env) for ref, env in VARIANTS.items()}


def import_images(containerd_socket: Path) -> list[str]:
    images = build_images()
    for tar in images.values():
        import_image(tar, containerd_socket)
    return list(images)


def real_node_socket() -> Path:
    """The containerd socket of the real node of the local cluster (OCTO_CLUSTER_DIR, as cluster.py)."""
    sys.path.insert(0, str(HERE.parent / "cluster"))
    import cluster
    import real_node

    return real_node.Layout(cluster.STATE_DIR).socket


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--import", dest="into_node", action="store_true", help="import into the local cluster's real node"
    )
    into_node = parser.parse_args().into_node
    try:
        if into_node:
            print("\n".join(f"imported {ref}" for ref in import_images(real_node_socket())))
        else:
            print("\n".join(f"built {ref}: {tar}" for ref, tar in build_images().items()))
    except ImageError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
