"""A local k3s "release" server: per version the stand-in binary and sha256sum-amd64.txt, as GitHub lays them out.

``source()`` swaps the stand-in for a real k3s where one is at hand: ``OCTO_TEST_K3S_URL`` (a real release base URL,
e.g. https://github.com/k3s-io/k3s/releases/download, with ``OCTO_TEST_K3S_VERSION``, default the scenario's) or
``OCTO_TEST_K3S_BINARY`` (a local k3s binary, served here under the version it prints).
``python release.py serve DIR ADDRESS URLFILE`` serves DIR in the background for the molecule scenario.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

STANDIN = Path(__file__).resolve().parent / "k3s_standin" / "k3s_standin.py"


def self_signed(directory: Path, ips: list[str]) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and ``ips`` (the stand-in's API server certificate and its own CA)."""
    san = ",".join(f"IP:{ip}" for ip in ["127.0.0.1", *ips])
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=k3s-standin",
         "-addext", f"subjectAltName={san}", "-keyout", str(directory / "key.pem"), "-out",
         str(directory / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return (directory / "cert.pem").read_text(), (directory / "key.pem").read_text()


def place(directory: Path, version: str, binary: bytes) -> None:
    """<directory>/<version>/k3s and its sha256sum-amd64.txt."""
    target = directory / version
    target.mkdir(parents=True, exist_ok=True)
    (target / "k3s").write_bytes(binary)
    (target / "sha256sum-amd64.txt").write_text(f"{hashlib.sha256(binary).hexdigest()}  k3s\n")


def build_release(directory: Path, versions: list[str], ips: list[str]) -> None:
    """The stand-in, for each version."""
    cert, key = self_signed(directory, ips)
    for version in versions:
        binary = (
            STANDIN.read_text().replace("@VERSION@", version).replace("@CERT@", cert).replace("@KEY@", key)
        )
        place(directory, version, binary.encode())


def source(directory: Path, versions: list[str], ips: list[str]) -> tuple[str | None, list[str]]:
    """(a real release base URL, or None to serve ``directory``; the versions there) -- see the module docstring."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.environ.get("OCTO_TEST_K3S_URL"):
        return os.environ["OCTO_TEST_K3S_URL"], [os.environ.get("OCTO_TEST_K3S_VERSION", versions[0])]
    if os.environ.get("OCTO_TEST_K3S_BINARY"):
        binary = os.environ["OCTO_TEST_K3S_BINARY"]
        printed = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, check=True, timeout=60
        )
        version = re.search(r"k3s version (v\S+)", printed.stdout).group(1)
        place(directory, version, Path(binary).read_bytes())
        return None, [version]
    build_release(directory, versions, ips)
    return None, versions


@contextlib.contextmanager
def release(directory: Path, versions: list[str], ips: list[str], address: str):
    """(base URL, versions) of the k3s to install, served on ``address`` unless OCTO_TEST_K3S_URL is set."""
    url, versions = source(directory, versions, ips)
    if url:
        yield url, versions
        return
    with ReleaseServer(directory, address) as server:
        yield server.url, versions


class ReleaseServer:
    """Serves ``directory`` over HTTP on ``address`` (the host side of a test veth)."""

    def __init__(self, directory: Path, address: str):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = ThreadingHTTPServer((address, 0), handler)
        self.url = f"http://{address}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ReleaseServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(directory: str, address: str, url_file: str) -> None:
    """Serve ``directory`` until killed; the URL goes to ``url_file`` once the socket listens."""
    with ReleaseServer(Path(directory), address) as server:
        Path(url_file).write_text(server.url)
        server.thread.join()


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    serve(*sys.argv[2:5])
