"""HTTPS facts of one endpoint: the certificate served (read without trusting it), whether it verifies, and GETs.

Connects to ``address:port`` with SNI and Host ``host``, so an endpoint is checked on the node before DNS
points at it. Failures are returned as text for the checks to report, never raised.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass, field

TIMEOUT_SECONDS = 5.0
MAX_BODY = 1 << 20
USER_AGENT = "octo.platform-verify"


@dataclass(frozen=True)
class Answer:
    status: int | None = None
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None


def served_certificate(host: str, address: str, port: int, timeout: float = TIMEOUT_SECONDS):
    """(PEM of the certificate served, error text): read without verifying, so an expired one is still seen."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((address, port), timeout=timeout) as raw:  # noqa: SIM117 - 3.9 targets
            with context.wrap_socket(raw, server_hostname=host) as conn:
                return ssl.DER_cert_to_PEM_cert(conn.getpeercert(binary_form=True)).encode(), None
    except (OSError, ssl.SSLError) as err:
        return None, str(err)


def get(host: str, address: str, port: int, path: str, ca_file: str | None, https: bool = True):
    """GET https://host{path} (http:// when not https) from address:port, chain and name verified, no redirect
    followed, no cookie."""
    context = ssl.create_default_context(cafile=ca_file) if https else None
    conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)
    try:
        raw = socket.create_connection((address, port), timeout=TIMEOUT_SECONDS)
        conn.sock = context.wrap_socket(raw, server_hostname=host) if https else raw
        conn.request(
            "GET", path, headers={"Host": host, "User-Agent": USER_AGENT, "Accept": "application/json"}
        )
        resp = conn.getresponse()
        return Answer(resp.status, dict(resp.getheaders()), resp.read(MAX_BODY))
    except ssl.SSLCertVerificationError as err:
        return Answer(error=f"certificate not trusted: {err.verify_message or err}")
    except (OSError, ssl.SSLError, http.client.HTTPException) as err:
        return Answer(error=str(err) or type(err).__name__)
    finally:
        conn.close()
