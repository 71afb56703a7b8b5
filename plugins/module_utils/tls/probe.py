"""Network facts of an endpoint: DNS answers (system resolver, or one server through dnspython) and a TLS handshake.

Failures are returned as text for the checks to report, never raised: an endpoint that does not answer is a
finding, not an error of the module.
"""

from __future__ import annotations

import hashlib
import socket
import ssl

from ansible_collections.octo.platform.plugins.module_utils.common.errors import DependencyError

try:
    import dns.exception
    import dns.resolver

    DNS_IMPORT_ERROR = None
except ImportError as err:  # pragma: no cover - depends on the host
    DNS_IMPORT_ERROR = err

TIMEOUT_SECONDS = 5.0


def resolve(
    host: str, resolver: str | None, port: int, timeout: float = TIMEOUT_SECONDS
) -> tuple[list, str | None]:
    """The host's A and AAAA addresses and an error text (None when the name resolved)."""
    if resolver is None:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except socket.gaierror as err:
            return [], err.strerror
        return sorted({info[4][0] for info in infos}), None
    if DNS_IMPORT_ERROR is not None:
        raise DependencyError("dnspython", "dnspython", DNS_IMPORT_ERROR)
    client = dns.resolver.Resolver(configure=False)
    client.nameservers = [resolver]
    client.port = port
    client.lifetime = timeout
    found = []
    for rdtype in ("A", "AAAA"):
        try:
            found += [record.to_text() for record in client.resolve(host, rdtype)]
        except dns.resolver.NoAnswer:
            continue
        except dns.resolver.NXDOMAIN:
            return [], f"{resolver} answers NXDOMAIN"
        except dns.exception.Timeout:
            return [], f"{resolver}:{port} did not answer within {timeout:g}s"
        except dns.exception.DNSException as err:
            return [], f"{resolver}:{port}: {err}"
    return sorted(found), None


def fingerprint(der: bytes) -> str:
    digest = hashlib.sha256(der).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def handshake(
    host: str, address: str, port: int, ca_file: str | None, timeout: float = TIMEOUT_SECONDS
) -> tuple[str | None, str | None]:
    """Connect to ``address:port`` with SNI ``host``, verify chain and name: (served fingerprint, error)."""
    context = ssl.create_default_context(cafile=ca_file)
    try:
        with (
            socket.create_connection((address, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as conn,
        ):
            return fingerprint(conn.getpeercert(binary_form=True)), None
    except ssl.SSLCertVerificationError as err:
        return None, err.verify_message or str(err)
    except (OSError, ssl.SSLError) as err:
        return None, str(err)
