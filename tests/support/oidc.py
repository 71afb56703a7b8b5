"""A CI OIDC issuer for the deploy gate's tests: RSA and EC keys, tokens, and the JWKS served over HTTP.

issuer = Issuer.start()                      # discovery document + JWKS on 127.0.0.1:<free port>
token = issuer.mint(aud="octo-deploy")       # RS256 with kid rsa-1, GitHub-like claims, a fresh jti
issuer.stop(); issuer.restart()              # the same keys, the same port, a new server
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cluster.local_ports import free_port
from cryptography.hazmat.primitives.asymmetric import ec, rsa

REPOSITORY = "octo/integrations"
WORKFLOW_REF = "octo/integrations/.github/workflows/deploy.yml@refs/heads/main"


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(private_key, kid: str, alg: str) -> dict:
    jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "use": "sig"}


class Issuer:
    def __init__(self):
        self.keys = {"rsa-1": ("RS256", rsa_key()), "es-1": ("ES256", ec_key())}
        self.requests: Counter = Counter()
        self.port = free_port()
        self._server = None

    @classmethod
    def start(cls) -> Issuer:
        issuer = cls()
        issuer.restart()
        return issuer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def jwks(self) -> dict:
        return {"keys": [public_jwk(key, kid, alg) for kid, (alg, key) in self.keys.items()]}

    def restart(self) -> None:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                issuer.requests[self.path] += 1
                documents = {
                    "/.well-known/openid-configuration": {
                        "issuer": issuer.url,
                        "jwks_uri": issuer.url + "/jwks",
                    },
                    "/jwks": issuer.jwks(),
                }
                body = json.dumps(documents.get(self.path, {})).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def claims(self, **overrides) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": "octo-deploy",
            "sub": f"repo:{REPOSITORY}:ref:refs/heads/main",
            "repository": REPOSITORY,
            "repository_owner": "octo",
            "ref": "refs/heads/main",
            "sha": "5f2c1e0d9a",
            "actor": "alice",
            "run_id": str(4700 + secrets.randbelow(100)),
            "workflow_ref": WORKFLOW_REF,
            "job_workflow_ref": WORKFLOW_REF,
            "event_name": "push",
            "jti": secrets.token_hex(16),
            "iat": now,
            "nbf": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def mint(self, kid: str = "rsa-1", headers: dict | None = None, **overrides) -> str:
        alg, key = self.keys[kid]
        return jwt.encode(
            self.claims(**overrides), key, algorithm=alg, headers={"kid": kid, **(headers or {})}
        )
