#!/usr/bin/env python3
"""The local Postgres image: Debian's PostgreSQL 15 packages packed by `image_builder` (no registry, no pull).

The files of the installed `postgresql-15` package (binaries, libraries, share data; tests/support/install_postgres.sh
installs it when missing) plus the shared libraries they link (found with ldd), dash as /bin/sh, UTC zone data,
a passwd entry for the postgres user (uid 999) and an entrypoint that initializes an empty data directory the way
the official image does (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA), then runs the server on all
addresses with scram-sha-256 password authentication. The root filesystem may be read-only: the server writes
only to PGDATA, /var/run/postgresql and /tmp.

    python tests/images/postgres_image.py [--import]   # --import: into the real node of OCTO_CLUSTER_DIR
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from images.image_builder import ImageError, build_image, import_image
from images.runtime_images import real_node_socket

IMAGE = "octo.local/postgres:15"
POSTGRES_UID = 999
PACKAGE_DIRS = (Path("/usr/lib/postgresql/15"), Path("/usr/share/postgresql/15"))
SHELL = Path("/usr/bin/dash")
ZONES = ("/usr/share/zoneinfo/UTC", "/usr/share/zoneinfo/Etc/UTC")
INSTALLER = HERE.parent / "support" / "install_postgres.sh"
ELF_MAGIC = b"\x7fELF"
_LDD_PATH = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x")
INSTALL_TIMEOUT_SECONDS = 600

ENTRYPOINT = """#!/bin/sh
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\\n' "$POSTGRES_PASSWORD" | initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=/dev/stdin \\
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C >/dev/null
  if [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \\"$POSTGRES_DB\\" OWNER \\"$POSTGRES_USER\\"" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql -c jit=off
"""
PASSWD = f"root:x:0:0:root:/root:/bin/sh\npostgres:x:{POSTGRES_UID}:{POSTGRES_UID}:PostgreSQL:/var/lib/postgresql:/bin/sh\n"
GROUP = f"root:x:0:\npostgres:x:{POSTGRES_UID}:\n"
ENV = {
    "PATH": "/usr/lib/postgresql/15/bin:/bin",
    "TZ": "UTC",
    "PGDATA": "/var/lib/postgresql/data",
    "POSTGRES_USER": "postgres",
    "POSTGRES_DB": "postgres",
}


def ensure_package() -> None:
    result = subprocess.run(
        ["bash", str(INSTALLER)], capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS, check=False
    )
    if result.returncode != 0:
        raise ImageError(f"Failed to install postgresql-15: {result.stdout}{result.stderr}".strip())


def package_files() -> list[Path]:
    """The package's files but the JIT provider and its bitcode (LLVM alone would triple the image; jit=off)."""
    return sorted(
        p
        for root in PACKAGE_DIRS
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith("llvmjit") and "bitcode" not in p.parts
    )


def linked_libraries(elf_files: list[Path]) -> set[str]:
    """The shared libraries (and the dynamic loader) the ELF files load, as the paths they are loaded from."""
    libraries: set[str] = set()
    for path in elf_files:
        result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=30, check=False)
        libraries.update(_LDD_PATH.findall(result.stdout))
    return libraries


def image_files() -> dict[str, tuple[bytes, int]]:
    files: dict[str, tuple[bytes, int]] = {}
    elves = []
    for path in [*package_files(), SHELL]:
        content = path.read_bytes()
        files[str(path)] = (content, path.stat().st_mode & 0o777)
        if content.startswith(ELF_MAGIC):
            elves.append(path)
    for library in linked_libraries(elves):
        files[library] = (Path(library).resolve().read_bytes(), 0o755)
    files["/bin/sh"] = files.pop(str(SHELL))
    files.update({zone: (Path(zone).read_bytes(), 0o644) for zone in ZONES})
    files["/etc/passwd"] = (PASSWD.encode(), 0o644)
    files["/etc/group"] = (GROUP.encode(), 0o644)
    files["/entrypoint.sh"] = (ENTRYPOINT.encode(), 0o755)
    return files


def build() -> Path:
    ensure_package()
    return build_image(IMAGE, image_files(), ["/entrypoint.sh"], env=ENV)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--import", dest="into_node", action="store_true", help="import into the real node")
    into_node = parser.parse_args().into_node
    try:
        tar = build()
        if into_node:
            import_image(tar, real_node_socket())
        print(f"{'imported' if into_node else 'built'} {IMAGE}: {tar}")
    except ImageError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
