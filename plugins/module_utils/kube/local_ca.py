"""The `local_ca` operation: a local CA and the domain's wildcard certificate, kept as files and as a TLS Secret.

Generated once under ``dir`` (``ca.key``/``wildcard.key`` 0600, ``ca.crt``/``wildcard.crt``), reused on later
runs; the wildcard certificate is issued again only when it no longer chains to the CA, covers the names, matches
its key or has RENEW_BEFORE_DAYS or fewer left. The TLS Secret (``tls.crt``, ``tls.key``, ``ca.crt``) is written
when its content differs. Key material never appears in the result or the diff.
"""

from __future__ import annotations

import base64
from pathlib import Path

from ansible_collections.octo.platform.plugins.module_utils.common.args import auth_params
from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.kube.converge import create_namespace
from ansible_collections.octo.platform.plugins.module_utils.render import names, tls
from ansible_collections.octo.platform.plugins.module_utils.tls import certs

FILES = {"ca_key": "ca.key", "ca_cert": "ca.crt", "key": "wildcard.key", "cert": "wildcard.crt"}
_WHAT = "the local CA"


def _validate(params: dict) -> tuple:
    wanted = tls.wildcard_names(params["domain"])
    if not names.is_dns_name(params["secret_name"]):
        raise ValidationError(_WHAT, "secret_name", "must be a lowercase DNS name")
    if not names.is_dns_label(params["namespace"]):
        raise ValidationError(_WHAT, "namespace", "must be a lowercase DNS label")
    if not params["ca_name"].strip():
        raise ValidationError(_WHAT, "ca_name", "must not be empty")
    return wanted


def _read(directory: Path) -> dict:
    found = {}
    for key, name in FILES.items():
        try:
            found[key] = (directory / name).read_bytes()
        except FileNotFoundError:
            pass
        except OSError as err:
            raise OctoError("read", _WHAT, f"{directory / name}: {err.strerror}") from None
    return found


def _leaf_ok(kept: dict, wanted: tuple) -> bool:
    if "key" not in kept or "cert" not in kept:
        return False
    try:
        facts = certs.facts(kept["cert"])
        return (
            certs.signed_by(kept["cert"], kept["ca_cert"])
            and certs.key_matches(kept["key"], kept["cert"])
            and tls.reusable(facts, wanted, certs.now())
        )
    except (OctoError, ValueError):
        return False


def _ca_pair(kept: dict) -> bool:
    try:
        return certs.key_matches(kept["ca_key"], kept["ca_cert"])
    except (ValueError, TypeError):
        return False


def _plan_files(kept: dict, wanted: tuple, ca_name: str) -> tuple[dict, list]:
    """The four PEMs after this run, and the files it (re)writes."""
    pems = dict(kept)
    written = []
    if "ca_key" not in kept or "ca_cert" not in kept:
        pems["ca_key"], pems["ca_cert"] = certs.new_ca(ca_name)
        written += ["ca_key", "ca_cert"]
    elif not _ca_pair(kept):
        raise OctoError(
            "read", _WHAT, "ca.key and ca.crt are not a PEM key and its certificate (remove both)"
        )
    if written or not _leaf_ok(kept, wanted):
        pems["key"], pems["cert"] = certs.issue(pems["ca_key"], pems["ca_cert"], wanted)
        written += ["key", "cert"]
    return pems, written


def _secret(params: dict, pems: dict) -> dict:
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return {
        **res.SECRET.header,
        "type": "kubernetes.io/tls",
        "metadata": {"name": params["secret_name"], "namespace": params["namespace"]},
        "data": {"tls.crt": b64(pems["cert"]), "tls.key": b64(pems["key"]), "ca.crt": b64(pems["ca_cert"])},
    }


def _secret_action(actual: dict | None, desired: dict) -> str:
    if actual is None:
        return "created"
    same = actual.get("type") == desired["type"] and (actual.get("data") or {}) == desired["data"]
    return "unchanged" if same else "updated"


def _summary(pems: dict, directory: Path) -> dict:
    ca = certs.facts(pems["ca_cert"])
    leaf = certs.facts(pems["cert"])
    return {
        "ca_cert_path": str(directory / FILES["ca_cert"]),
        "ca_cert_pem": pems["ca_cert"].decode(),
        "ca_fingerprint_sha256": ca.fingerprint_sha256,
        "certificate": {
            "dns_names": list(leaf.dns_names),
            "not_after": leaf.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "days_left": tls.days_left(leaf.not_after, certs.now()),
            "fingerprint_sha256": leaf.fingerprint_sha256,
        },
    }


def ensure(params: dict, check_mode: bool = False, diff: bool = False, kube: Kube | None = None) -> dict:
    certs.require()
    wanted = _validate(params)
    directory = Path(params["dir"]).expanduser()
    kube = kube or Kube(auth_params(params))
    kept = _read(directory)
    pems, written = _plan_files(kept, wanted, params["ca_name"])
    desired = _secret(params, pems)
    actual = kube.get(res.SECRET, params["secret_name"], params["namespace"])
    action = _secret_action(actual, desired)
    files = sorted(FILES[key] for key in written)
    result = {
        "changed": bool(written) or action != "unchanged",
        "files_written": files,
        "secret": {"name": params["secret_name"], "namespace": params["namespace"], "action": action},
        **_summary(pems, directory),
    }
    if diff:
        result["diff"] = _diff(kept, pems, action, desired) if result["changed"] else {}
    if check_mode:
        return result
    for key in written:
        certs.write_private(directory / FILES[key], pems[key], 0o600 if key.endswith("key") else 0o644)
    if action != "unchanged":
        if actual is None and kube.get(res.NAMESPACE, params["namespace"]) is None:
            create_namespace(kube, params["namespace"])
        kube.apply(res.SECRET, desired)
    return result


def _state(pems: dict, secret: str) -> str:
    """Readable state for the diff: certificate fingerprints (public), never keys."""
    lines = []
    for key in ("ca_cert", "cert"):
        fingerprint = certs.facts(pems[key]).fingerprint_sha256 if key in pems else "absent"
        lines.append(f"{FILES[key]}: {fingerprint}")
    return "\n".join([*lines, secret]) + "\n"


def _diff(kept: dict, pems: dict, action: str, desired: dict) -> dict:
    meta = desired["metadata"]
    secret = f"Secret {meta['namespace']}/{meta['name']}"
    before = "absent" if action == "created" else ("other content" if action == "updated" else "current")
    return {
        "before": _state(kept, f"{secret}: {before}"),
        "after": _state(pems, f"{secret}: tls.crt, tls.key (hidden), ca.crt of the files above"),
    }
