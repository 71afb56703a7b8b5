"""platform_verify against local HTTPS servers (certificates from cryptography) and a local DNS server.

Each check is shown passing on a well-configured endpoint and failing when its property is made wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.message
import dns.rcode
import dns.rrset
import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from support.playbook import run_tasks

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.common.verify_args import VERIFY
from ansible_collections.octo.platform.plugins.module_utils.tls import platform_verify

HOST = "editor.octo.test"
GOOD_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn="octo test CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)  # noqa: UP017 - also runs on 3.11 in .venv-compat
    cert = (
        x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return key, cert


def make_leaf(ca, names, days=90):
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)  # noqa: UP017
    cert = (
        x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    return key, cert


def pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class Site:
    """What the HTTPS server answers; tests change it to make one property wrong."""

    def __init__(self):
        self.health_status = 200
        self.health_body = json.dumps({"status": "ok", "database": {"status": "healthy"}}).encode()
        self.headers = dict(GOOD_HEADERS)
        self.api_status = 401
        self.failures_left = 0  # answer 503 this many times first


def serve_http(site: Site):
    """The same site over plain HTTP (a platform without TLS)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_https(tmp_path, site: Site, key, cert, name="server"):
    key_file, cert_file = tmp_path / f"{name}.key", tmp_path / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_file.write_bytes(pem(cert))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.handle_error = lambda *_args: None  # a probe that only reads the certificate resets the connection
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path == "/api/health":
                status, body = site.health_status, site.health_body
                if site.failures_left:
                    site.failures_left -= 1
                    status = 503
            else:
                status, body = site.api_status, b'{"error": "unauthorized"}'
            self.send_response(status)
            for header, value in site.headers.items():
                self.send_header(header, value)
            if status in (302, 303, 307):
                self.send_header("Location", "/auth/signin")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class DnsServer:
    """A UDP DNS server answering A records from ``records``; NXDOMAIN for any other name."""

    def __init__(self):
        self.records: dict[str, str] = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            answer = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".")
            if name not in self.records:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == 1:  # A
                answer.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", self.records[name]))
            self.sock.sendto(answer.to_wire(), peer)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def dns_server():
    server = DnsServer()
    server.records[HOST] = "127.0.0.1"
    yield server
    server.close()


@pytest.fixture
def ca():
    return make_ca()


@pytest.fixture
def endpoint(tmp_path, ca):
    site = Site()
    server = serve_https(tmp_path, site, *make_leaf(ca, [HOST]))
    (tmp_path / "ca.crt").write_bytes(pem(ca[1]))
    yield site, server
    server.shutdown()
    server.server_close()


def params(tmp_path, server, dns_server, **extra):
    values = {
        "endpoints": [{"name": "editor", "url": f"https://{HOST}:{server.server_address[1]}"}],
        "oidc_enabled": True,
        "node_addresses": ["127.0.0.1"],
        "resolver": "127.0.0.1",
        "resolver_port": dns_server.port,
        "ca_cert": str(tmp_path / "ca.crt"),
        "retries": 0,
        "delay": 0.1,
        "fail_on_error": False,
        **extra,
    }
    result = ArgumentSpecValidator(VERIFY).validate(values)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def statuses(result) -> dict:
    return {c["name"]: c["ok"] for c in result["endpoints"][0]["checks"]}


def test_a_well_configured_endpoint_passes_every_check(tmp_path, endpoint, dns_server):
    _site, server = endpoint
    result = platform_verify.run(params(tmp_path, server, dns_server), check_mode=True)
    assert result["ok"] and not result["changed"], result["table"]
    assert statuses(result) == dict.fromkeys(("dns", "certificate", "health", "headers", "auth"), True)
    assert result["table"][0].split() == ["RESULT", "ENDPOINT", "CHECK", "DETAIL"]
    assert all(line.startswith("PASS") for line in result["table"][1:]) and len(result["table"]) == 6


@pytest.mark.parametrize(
    ("change", "check", "message"),
    [
        ({"health_status": 500}, "health", "answered HTTP 500, not 200"),
        ({"health_body": b"<html>ok</html>"}, "health", "not JSON"),
        ({"health_body": b'{"state": "ok"}'}, "health", "JSON lacks status"),
        ({"headers": {**GOOD_HEADERS, "Strict-Transport-Security": "max-age=60"}}, "headers", "Strict-Transport"),
        ({"headers": {k: v for k, v in GOOD_HEADERS.items() if k != "X-Content-Type-Options"}}, "headers", "nosniff"),
        ({"headers": {k: v for k, v in GOOD_HEADERS.items() if k != "X-Frame-Options"}}, "headers", "frame-ancestors"),
        ({"headers": {k: v for k, v in GOOD_HEADERS.items() if k != "Referrer-Policy"}}, "headers", "Referrer-Policy"),
        ({"api_status": 200}, "auth", "authentication not enforced"),
    ],
)  # fmt: skip
def test_each_http_property_made_wrong_fails_its_check(
    tmp_path, endpoint, dns_server, change, check, message
):
    site, server = endpoint
    for attribute, value in change.items():
        setattr(site, attribute, value)
    result = platform_verify.run(params(tmp_path, server, dns_server))
    failed = [c for c in result["endpoints"][0]["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == [check] and message in failed[0]["message"]
    assert not result["ok"] and any(line.startswith("FAIL") and check in line for line in result["table"])


def test_csp_frame_ancestors_and_a_login_redirect_pass(tmp_path, endpoint, dns_server):
    site, server = endpoint
    site.headers = {**{k: v for k, v in GOOD_HEADERS.items() if k != "X-Frame-Options"}}
    site.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
    site.api_status = 302
    result = platform_verify.run(params(tmp_path, server, dns_server))
    assert result["ok"], result["table"]
    assert "HTTP 302" in result["endpoints"][0]["checks"][4]["message"]


def test_auth_is_not_asked_for_when_oidc_is_off(tmp_path, endpoint, dns_server):
    site, server = endpoint
    site.api_status = 200
    result = platform_verify.run(params(tmp_path, server, dns_server, oidc_enabled=False))
    assert result["ok"] and result["endpoints"][0]["checks"][4]["skipped"]


def test_certificate_for_another_host_untrusted_or_expiring_fails(tmp_path, ca, dns_server):
    cases = {
        "covers other.octo.test, not editor.octo.test": make_leaf(ca, ["other.octo.test"]),
        "not trusted": make_leaf(make_ca("another CA"), [HOST]),
        "expires in 4 days (threshold 14)": make_leaf(ca, [HOST], days=5),  # 4 whole days left
    }  # fmt: skip
    (tmp_path / "ca.crt").write_bytes(pem(ca[1]))
    for index, (message, leaf) in enumerate(cases.items()):
        server = serve_https(tmp_path, Site(), *leaf, name=f"s{index}")
        try:
            result = platform_verify.run(params(tmp_path, server, dns_server))
        finally:
            server.shutdown()
            server.server_close()
        certificate = result["endpoints"][0]["checks"][1]
        assert not certificate["ok"] and message in certificate["message"], certificate


def test_dns_to_another_address_or_missing_fails(tmp_path, endpoint, dns_server):
    _site, server = endpoint
    dns_server.records[HOST] = "127.0.0.2"
    result = platform_verify.run(params(tmp_path, server, dns_server, address="127.0.0.1"))
    assert statuses(result) == {
        "dns": False,
        "certificate": True,
        "health": True,
        "headers": True,
        "auth": True,
    }
    assert "resolves to 127.0.0.2, not the node (127.0.0.1)" in result["failures"][0]
    del dns_server.records[HOST]
    result = platform_verify.run(params(tmp_path, server, dns_server, address="127.0.0.1"))
    assert "NXDOMAIN" in result["endpoints"][0]["checks"][0]["message"]


def test_a_check_not_asked_for_passes_as_skipped(tmp_path, endpoint, dns_server):
    _site, server = endpoint
    checks = ["certificate", "health", "headers", "auth"]
    result = platform_verify.run(params(tmp_path, server, dns_server, address="127.0.0.1", checks=checks))
    assert result["ok"] and statuses(result)["dns"]
    assert result["endpoints"][0]["checks"][0]["message"] == "skipped (not asked for)"


def test_bounded_retries_until_healthy_then_a_clear_failure(tmp_path, endpoint, dns_server):
    site, server = endpoint
    site.failures_left = 2
    result = platform_verify.run(params(tmp_path, server, dns_server, retries=3))
    assert result["ok"] and result["endpoints"][0]["attempts"] == 3
    site.failures_left = 10
    with pytest.raises(
        OctoError, match=r"Failed to verify the platform: 1 checks failed: editor health: .*503"
    ) as err:
        platform_verify.run(params(tmp_path, server, dns_server, retries=1, fail_on_error=True))
    assert err.value.details["endpoints"][0]["attempts"] == 2 and site.failures_left == 8
    assert any(line.startswith("FAIL") for line in err.value.details["table"])


def test_plain_http_fails_the_certificate_check_unless_tls_is_not_required(tmp_path, dns_server):
    site = Site()
    site.headers = {k: v for k, v in GOOD_HEADERS.items() if k != "Strict-Transport-Security"}
    server = serve_http(site)
    try:
        p = params(tmp_path, server, dns_server)
        p["endpoints"][0]["url"] = f"http://{HOST}:{server.server_address[1]}"
        required = platform_verify.run(p)
        relaxed = platform_verify.run({**p, "require_tls": False})
    finally:
        server.shutdown()
        server.server_close()
    assert statuses(required) == {
        "dns": True,
        "certificate": False,
        "health": True,
        "headers": True,
        "auth": True,
    }
    assert "plain HTTP (TLS required)" in required["failures"][0]
    assert relaxed["ok"] and relaxed["endpoints"][0]["checks"][1]["skipped"], relaxed["table"]


def test_module_prints_the_table_in_a_play(tmp_path, endpoint, dns_server):
    _site, server = endpoint
    args = {k: v for k, v in params(tmp_path, server, dns_server).items() if v is not None}
    run = run_tasks(
        [
            {"name": "verify", "octo.platform.platform_verify": args, "register": "verified"},
            {"name": "table", "ansible.builtin.debug": {"msg": "{{ verified.table }}"}},
        ]
    )
    assert run.rc == 0, run.output
    assert "PASS    editor    certificate" in run.output
