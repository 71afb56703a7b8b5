"""Pebble (ACME test server), pebble-challtestsrv (its DNS) and the lego client, for ACME tests on 127.0.0.1.

`acme_servers(tmp, http_port)` starts pebble-challtestsrv as the DNS server (every A query answers 127.0.0.1,
TXT records set through its management API) and pebble validating HTTP-01 challenges on ``http_port`` (the
local Traefik's web entry point), each bounded and stopped on exit. `lego(...)` runs one order.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cluster import local_ports

from ansible_collections.octo.platform.plugins.module_utils.tls import certs

INSTALLER = Path(__file__).resolve().parent / "install.sh"
READY_TIMEOUT_SECONDS = 30
LEGO_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Acme:
    directory: str  # pebble's ACME directory URL
    ca_file: Path  # trusts pebble's own HTTPS listener
    dns: str  # 127.0.0.1:<port> of pebble-challtestsrv's DNS
    management: str  # http://127.0.0.1:<port> of pebble-challtestsrv's management API

    def set_txt(self, fqdn: str, value: str) -> None:
        self._post("set-txt", {"host": fqdn, "value": value})

    def clear_txt(self, fqdn: str) -> None:
        self._post("clear-txt", {"host": fqdn})

    def _post(self, path: str, body: dict) -> None:
        request = urllib.request.Request(
            f"{self.management}/{path}", data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=5):
            pass


def install() -> None:
    subprocess.run([str(INSTALLER)], check=True, timeout=600)


def _wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while local_ports.port_is_free(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{process.args[0]} did not listen on {port}: {log.read_text()[-2000:]}")
        time.sleep(0.1)


@contextlib.contextmanager
def _running(argv: list, log: Path, port: int, env: dict | None = None):
    with open(log, "wb") as out:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    try:
        _wait_listening(port, process, log)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def acme_servers(tmp: Path, http_port: int):
    install()
    taken: set[int] = {http_port}
    dns_port, management, acme_port, acme_management, tls_port = (
        local_ports.free_port(taken) for _ in range(5)
    )
    ca_key, ca_cert = certs.new_ca("pebble listener CA")
    key, cert = certs.issue(ca_key, ca_cert, ("localhost",))
    for name, data in (("ca.crt", ca_cert), ("pebble.key", key), ("pebble.crt", cert)):
        (tmp / name).write_bytes(data)
    config = {
        "pebble": {
            "listenAddress": f"127.0.0.1:{acme_port}",
            "managementListenAddress": f"127.0.0.1:{acme_management}",
            "certificate": str(tmp / "pebble.crt"),
            "privateKey": str(tmp / "pebble.key"),
            "httpPort": http_port,
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    (tmp / "pebble.json").write_text(json.dumps(config))
    challtestsrv = [
        "pebble-challtestsrv",
        f"-dns01=127.0.0.1:{dns_port}",
        f"-management=127.0.0.1:{management}",
        "-http01=",
        "-https01=",
        "-tlsalpn01=",
        "-defaultIPv4=127.0.0.1",
        "-defaultIPv6=",
    ]
    pebble = ["pebble", f"-config={tmp / 'pebble.json'}", f"-dnsserver=127.0.0.1:{dns_port}"]
    quick = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PEBBLE_AUTHZREUSE": "0"}
    with (
        _running(challtestsrv, tmp / "challtestsrv.log", management),
        _running(pebble, tmp / "pebble.log", acme_port, quick),
    ):
        yield Acme(
            directory=f"https://localhost:{acme_port}/dir",
            ca_file=tmp / "ca.crt",
            dns=f"127.0.0.1:{dns_port}",
            management=f"http://127.0.0.1:{management}",
        )


def lego(acme: Acme, work: Path, domains: list[str], *solver: str, env: dict | None = None):
    """One `lego run` for ``domains`` with the given solver flags; the CompletedProcess."""
    argv = ["lego", "--accept-tos", "--email=acme-test@example.com", f"--server={acme.directory}"]
    argv += [f"--path={work}", *(f"--domains={d}" for d in domains), *solver, "run"]
    return subprocess.run(
        argv,
        env={**os.environ, "LEGO_CA_CERTIFICATES": str(acme.ca_file), **(env or {})},
        capture_output=True,
        text=True,
        timeout=LEGO_TIMEOUT_SECONDS,
        check=False,
    )
