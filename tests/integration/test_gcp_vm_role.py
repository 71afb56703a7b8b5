"""The gcp_vm role without Google: its argument specs, its preflight, check mode, and a run against a fake Compute API.

Google cannot be reached here. The modules' requests go through a local HTTPS proxy that answers for
*.googleapis.com itself (a test CA the run trusts through REQUESTS_CA_BUNDLE) with a minimal in-memory Compute API.
google.cloud's modules lack check mode: under --check they validate their arguments and skip, so nothing is sent.
The real run shows the requests the role's variables become and that a second run changes nothing; it is a fake,
not Google. google.cloud comes from tests/collections/install_google_cloud.sh.
"""

from __future__ import annotations

import json
import os
import re
import socketserver
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOctoTestKeyOnlyForArgumentValidation0000000 test@octo"
GOOD = {
    "gcp_vm_project": "test-project",
    "gcp_vm_auth_kind": "accesstoken",
    "gcp_vm_ssh_public_key": KEY,
    "gcp_vm_api_cidrs": ["198.51.100.0/24"],
    "gcp_vm_web_cidrs": ["0.0.0.0/0"],
}
COMPUTE = "/compute/v1/projects/test-project"


def certificates(directory: Path) -> tuple[Path, Path]:
    """A test CA (its PEM for REQUESTS_CA_BUNDLE) and a *.googleapis.com certificate it signed (cert+key PEM)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=octo-test-ca",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=compute.googleapis.com",
            "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    (directory / "ext.cnf").write_text(
        "subjectAltName=DNS:*.googleapis.com\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "1", "-extfile", "ext.cnf", "-out", "server.pem")  # fmt: skip
    (directory / "server-chain.pem").write_text(
        (directory / "server.pem").read_text() + (directory / "server.key").read_text()
    )
    return directory / "ca.pem", directory / "server-chain.pem"


KINDS = {"addresses": "compute#address", "firewalls": "compute#firewall", "instances": "compute#instance"}
STATIC_IP = "203.0.113.7"


class _Api(BaseHTTPRequestHandler):
    """Behind the tunnel, a minimal Compute API: records every request; GET reads the stored resource (404 when
    absent), POST to an addresses/firewalls/instances collection stores it and answers a finished operation (an
    address gets STATIC_IP); anything else is refused (403)."""

    def log_message(self, *args) -> None:
        pass

    def _reply(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.headers.get("Host"), self.path, body))
        path, store = self.path.split("?")[0], self.server.store
        kind = KINDS.get(path.rsplit("/", 1)[-1])
        if self.command == "GET" and path in store:
            return self._reply(200, store[path])
        if self.command == "POST" and kind:
            resource = json.loads(body)
            link = f"https://{self.headers.get('Host')}{path}/{resource['name']}"
            store[f"{path}/{resource['name']}"] = {"kind": kind, "selfLink": link, **resource}
            if kind == "compute#address":
                store[f"{path}/{resource['name']}"]["address"] = STATIC_IP
            return self._reply(200, {"kind": "compute#operation", "status": "DONE", "targetLink": link})
        code = 404 if self.command == "GET" else 403
        return self._reply(code, {"error": {"code": code, "message": "fake googleapis"}})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


class _Proxy(socketserver.StreamRequestHandler):
    """CONNECT host:443 -> 200, then TLS with the test certificate and _Api on the decrypted stream."""

    def handle(self) -> None:
        method, target, _ = self.rfile.readline().decode().split()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        if method != "CONNECT" or not target.endswith(".googleapis.com:443"):
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            self.server.requests.append((method, target, "", b""))
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        tls = self.server.tls.wrap_socket(self.request, server_side=True)
        _Api(tls, self.client_address, self.server)


class FakeGoogleApis(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, directory: Path):
        super().__init__(("127.0.0.1", 0), _Proxy)
        self.ca, chain = certificates(directory)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(chain)
        self.requests: list = []
        self.store: dict = {}
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FakeGoogleApis:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture(scope="module")
def collections_path():
    installer = ROOT / "tests/collections/install_google_cloud.sh"
    done = subprocess.run(
        [str(installer), sys.executable], capture_output=True, text=True, timeout=600, check=True
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def google(tmp_path):
    with FakeGoogleApis(tmp_path) as server:
        yield server


def play(
    role_vars: dict,
    collections: str,
    google: FakeGoogleApis,
    tmp: Path,
    *args: str,
    playbook_file: Path | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """``ansible-playbook [--check --diff]`` of the role on localhost, the Google APIs behind the fake proxy."""
    if playbook_file is None:
        playbook_file = tmp / "site.yml"
        role = {"role": "octo.platform.gcp_vm", "vars": role_vars}
        playbook_file.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "roles": [role]}]))
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("GCP_PROJECT", "GCP_AUTH_KIND")},
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": f"{collections}:{ROOT / 'collections'}",
        "NO_COLOR": "1",
        "HTTPS_PROXY": google.url,
        "https_proxy": google.url,
        "NO_PROXY": "",
        "no_proxy": "",
        "REQUESTS_CA_BUNDLE": str(google.ca),
        "GCP_ACCESS_TOKEN": "test-token-not-secret",
    }
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    return subprocess.run(
        [playbook, str(playbook_file), *(["--check", "--diff"] if check else []), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_argument_specs_name_the_missing_and_wrong_variables(collections_path, google, tmp_path):
    run = play({"gcp_vm_disk_size_gb": "big"}, collections_path, google, tmp_path)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "missing required arguments: gcp_vm_api_cidrs, gcp_vm_ssh_public_key" in output, output
    assert "gcp_vm_disk_size_gb" in output and "cannot be converted to an int" in output, output
    assert google.requests == []


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"gcp_vm_api_cidrs": ["0.0.0.0/0"]}, "gcp_vm_api_cidrs must restrict 6443"),
        ({"gcp_vm_web_cidrs": ["10.0.0.0/33"]}, "(bad: 10.0.0.0/33)"),
        ({"gcp_vm_ssh_public_key": "not a key"}, "gcp_vm_ssh_public_key must be an OpenSSH public key"),
        ({"gcp_vm_project": ""}, "gcp_vm_project (or GCP_PROJECT) must be set (is '')"),
        ({"gcp_vm_zone": "us-east1-b"}, "(us-east1-b vs europe-west1)"),
    ],
)
def test_preflight_refuses_bad_inputs_before_any_call(collections_path, google, tmp_path, bad, named):
    run = play(GOOD | bad, collections_path, google, tmp_path)
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode != 0 and "Failed to validate the VM inputs:" in output, output
    assert named in output, output
    assert google.requests == []


def test_check_mode_validates_every_task_and_calls_nothing(collections_path, google, tmp_path):
    """google.cloud's modules lack check mode: AnsibleModule validates their arguments, then skips the call."""
    run = play(GOOD, collections_path, google, tmp_path, "-v")
    output = run.stdout + run.stderr
    assert run.returncode == 0 and "failed=0" in output, output[-4000:]
    skipped = re.findall(
        r"remote module \((google\.cloud\.gcp_compute_\w+)\) does not support check mode", output
    )
    assert skipped == [
        f"google.cloud.gcp_compute_{name}" for name in ("address", "firewall", "firewall", "instance")
    ]
    assert google.requests == []


def test_a_google_cloud_module_checks_its_arguments_in_check_mode(collections_path, google, tmp_path):
    """What the test above relies on: an argument the module rejects fails the task even in check mode."""
    task = {"google.cloud.gcp_compute_address": {"name": "x", "project": "p", "auth_kind": "accesstoken"}}
    (tmp_path / "site.yml").write_text(
        json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}])
    )
    run = play(GOOD, collections_path, google, tmp_path, playbook_file=tmp_path / "site.yml")
    output = run.stdout + run.stderr
    assert run.returncode != 0 and "missing required arguments: region" in output, output
    assert google.requests == []


def posted(requests: list, collection: str) -> list:
    return [
        json.loads(body)
        for method, _, path, body in requests
        if method == "POST" and path.endswith(collection)
    ]


def test_a_real_run_against_a_fake_compute_api_creates_once(collections_path, google, tmp_path):
    """Not Google: the fake above. Shows the requests the role's arguments become, and an unchanged second run."""
    first = play(GOOD, collections_path, google, tmp_path, check=False)
    assert first.returncode == 0 and "changed=3" in first.stdout, (first.stdout + first.stderr)[-4000:]
    address = {"kind": "compute#address", "name": "octo-k3s-ip", "addressType": "EXTERNAL"}
    assert posted(google.requests, "/addresses") == [address]
    rules = {rule["name"]: rule for rule in posted(google.requests, "/firewalls")}
    assert rules["octo-k3s-api"]["sourceRanges"] == ["198.51.100.0/24"]
    assert rules["octo-k3s-api"]["allowed"] == [{"IPProtocol": "tcp", "ports": ["6443"]}]
    assert rules["octo-k3s-web"]["allowed"] == [{"IPProtocol": "tcp", "ports": ["80", "443"]}]
    assert all(
        rule["targetTags"] == ["octo-k3s"] and rule["direction"] == "INGRESS" for rule in rules.values()
    )
    (instance,) = posted(google.requests, "/instances")
    assert instance["networkInterfaces"][0]["accessConfigs"][0]["natIP"] == STATIC_IP
    assert instance["disks"][0]["initializeParams"]["sourceImage"].endswith(
        "debian-cloud/global/images/family/debian-12"
    )
    assert {"key": "ssh-keys", "value": f"octo:{KEY}"} in instance["metadata"]["items"]
    assert instance["tags"]["items"] == ["octo-k3s"]
    before = len(google.requests)
    second = play(GOOD, collections_path, google, tmp_path, check=False)
    assert second.returncode == 0 and "changed=0" in second.stdout, (second.stdout + second.stderr)[-4000:]
    assert {method for method, *_ in google.requests[before:]} == {"GET"}
