#!/usr/bin/python3
"""A STAND-IN for the k3s binary (tests only): behaves like k3s where the k3s module and role can see it.

`k3s --version` prints the version; `k3s server` reads /etc/rancher/k3s/config.yaml, serves HTTPS on 6443
(/readyz and /api/v1/nodes, bearer token) with the certificate baked in below, writes /etc/rancher/k3s/k3s.yaml
and the join token (with STANDIN_NEVER_READY=1 in its environment, /readyz never answers ok);
`k3s agent` joins a server with config.yaml's server + token and the server lists its node.
The release server of the tests fills in VERSION, CERT and KEY.
"""

import base64
import json
import os
import pathlib
import secrets
import socket
import ssl
import sys
import tempfile
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "@VERSION@"
CERT = """@CERT@"""
KEY = """@KEY@"""
CONFIG = "/etc/rancher/k3s/config.yaml"
KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
TOKEN_FILE = "/var/lib/rancher/k3s/server/token"
NODES_FILE = "/var/lib/rancher/k3s/server/standin-nodes.json"


def read_config():
    """config.yaml as the k3s module writes it: JSON scalars, list items on `  - ` lines."""
    values, key = {}, None
    if not os.path.exists(CONFIG):
        return values
    for line in pathlib.Path(CONFIG).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("  - "):
            values[key].append(json.loads(line[4:]))
            continue
        key, _, rest = line.partition(":")
        values[key] = json.loads(rest) if rest.strip() else []
    return values


def write(path, text, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def load_nodes():
    return json.loads(pathlib.Path(NODES_FILE).read_text()) if os.path.exists(NODES_FILE) else {}


def node(name):
    return {"metadata": {"name": name}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def handler(admin_token, join_token, nodes, never_ready):
    class Api(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, code, body):
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            self.send_response(code)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def bearer(self):
            return self.headers.get("Authorization", "").removeprefix("Bearer ")

        def do_GET(self):
            if self.bearer() != admin_token:
                return self.reply(401, {"kind": "Status", "code": 401})
            if self.path == "/readyz" and never_ready:  # STANDIN_NEVER_READY in the unit's environment file
                print("[-]etcd failed: stand-in told never to become ready", flush=True)
                return self.reply(500, b"[-]etcd failed: reason withheld\nreadyz check failed")
            if self.path == "/readyz":
                return self.reply(200, b"ok")
            if self.path == "/api/v1/nodes":
                return self.reply(200, {"kind": "NodeList", "items": [node(n) for n in sorted(nodes)]})
            return self.reply(404, {"kind": "Status", "code": 404})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path != "/standin/join" or self.bearer() != join_token:
                return self.reply(401, {"kind": "Status", "code": 401})
            nodes[body["node"]] = time.time()
            write(NODES_FILE, json.dumps(nodes), 0o600)
            return self.reply(200, {"joined": body["node"]})

    return Api


def kubeconfig(admin_token):
    ca = base64.b64encode(CERT.encode()).decode()
    return (
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: " + ca + "\n"
        "    server: https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n    cluster: default\n"
        "    user: default\n  name: default\ncurrent-context: default\nkind: Config\npreferences: {}\n"
        "users:\n- name: default\n  user:\n    token: " + admin_token + "\n"
    )


def notify_ready():
    path = os.environ.get("NOTIFY_SOCKET")
    if path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.sendto(b"READY=1", "\0" + path[1:] if path.startswith("@") else path)


def server():
    config = read_config()
    join_token = config.get("token") or (
        pathlib.Path(TOKEN_FILE).read_text().strip() if os.path.exists(TOKEN_FILE) else ""
    )
    join_token = join_token or secrets.token_hex(16)
    write(TOKEN_FILE, join_token + "\n", 0o600)
    admin_token = secrets.token_hex(16)
    nodes = load_nodes()
    nodes[config.get("node-name") or socket.gethostname()] = time.time()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as pem:
        pem.write(CERT + KEY)
        pem.flush()
        context.load_cert_chain(pem.name)
    never_ready = os.environ.get("STANDIN_NEVER_READY") == "1"
    httpd = ThreadingHTTPServer(("0.0.0.0", 6443), handler(admin_token, join_token, nodes, never_ready))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    mode = int(str(config.get("write-kubeconfig-mode", "0600")), 8)
    write(KUBECONFIG, kubeconfig(admin_token), mode)
    print(f"stand-in k3s {VERSION} server ready, config keys: {sorted(config)}", flush=True)
    notify_ready()
    httpd.serve_forever()


def agent():
    config = read_config()
    name = config.get("node-name") or socket.gethostname()
    body = json.dumps({"node": name}).encode()
    context = ssl._create_unverified_context()
    while True:
        request = urllib.request.Request(
            config["server"].rstrip("/") + "/standin/join",
            data=body,
            method="POST",
            headers={"Authorization": "Bearer " + config["token"], "Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(request, timeout=5, context=context).read()
            print(f"stand-in k3s {VERSION} agent {name} joined {config['server']}", flush=True)
        except OSError as err:
            print(f"stand-in k3s agent: join failed: {err}", flush=True)
        time.sleep(10)


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in ("--version", "-v", "version"):
        print(f"k3s version {VERSION} (stand-in)\ngo version none (python stand-in)")
    elif command == "server":
        server()
    elif command == "agent":
        agent()
    else:
        print(f"stand-in k3s {VERSION}: unsupported command {command!r}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
