"""A local k3s "release" server: per version the stand-in binary and sha256sum-amd64.txt, as GitHub lays them out.

``OCTO_TEST_K3S_URL`` (a real release base URL, e.g. https://github.com/k3s-io/k3s/releases/download) replaces it
where a network allows.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
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


def build_release(directory: Path, versions: list[str], ips: list[str]) -> None:
    """<directory>/<version>/k3s and sha256sum-amd64.txt for each version."""
    cert, key = self_signed(directory, ips)
    for version in versions:
        binary = (
            STANDIN.read_text().replace("@VERSION@", version).replace("@CERT@", cert).replace("@KEY@", key)
        )
        target = directory / version
        target.mkdir(parents=True, exist_ok=True)
        (target / "k3s").write_text(binary)
        digest = hashlib.sha256(binary.encode()).hexdigest()
        (target / "sha256sum-amd64.txt").write_text(f"{digest}  k3s\n")


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
