"""The issuer's JWKS: from its OIDC discovery document or a file, cached on disk with a bounded TTL.

An unknown kid triggers one refresh (the issuer rotated its keys); a JWKS that cannot be fetched and has
no fresh cache refuses the token (fail closed).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.auth.claims import TokenRefused

try:
    from ansible.module_utils.urls import open_url
except ImportError:  # pragma: no cover - always present where modules run
    open_url = None

MAX_CACHE_TTL = 3600
MAX_DOCUMENT_BYTES = 1 << 20


@dataclass(frozen=True)
class KeySource:
    discovery_url: str | None
    jwks_file: str | None
    cache_dir: str
    cache_ttl: int
    timeout: float
    validate_certs: bool = True


def signing_key(source: KeySource, kid: str) -> dict:
    """The JWK named ``kid``: from the cache when fresh, else fetched; one refresh when kid is unknown."""
    keys, fresh = _load(source, refresh=False)
    found = _find(keys, kid)
    if found is None and not fresh:
        found = _find(_load(source, refresh=True)[0], kid)
    if found is None:
        raise TokenRefused("unknown-kid", f"key {kid} is not in the issuer's JWKS (after one refresh)")
    return found


def _find(keys: list, kid: str) -> dict | None:
    return next((k for k in keys if isinstance(k, dict) and k.get("kid") == kid), None)


def _load(source: KeySource, refresh: bool) -> tuple[list, bool]:
    """(keys, fetched now): the JWKS file is read each time; a URL's JWKS comes from a fresh cache if any."""
    if source.jwks_file:
        return _keys(_read_file(source.jwks_file), source.jwks_file), True
    cache = os.path.join(
        source.cache_dir, hashlib.sha256(source.discovery_url.encode()).hexdigest()[:32] + ".json"
    )
    if not refresh and source.cache_ttl > 0:
        cached = _read_cache(cache, source.cache_ttl)
        if cached is not None:
            return cached, False
    keys = _fetch(source)
    _write_cache(cache, keys)
    return keys, True


def _read_file(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as err:
        raise TokenRefused(
            "jwks-unavailable", f"cannot read the JWKS file {path} ({err}); failing closed"
        ) from None


def _fetch(source: KeySource) -> list:
    discovery = _get_json(source.discovery_url, source)
    jwks_uri = discovery.get("jwks_uri") if isinstance(discovery, dict) else None
    if not isinstance(jwks_uri, str) or not jwks_uri:
        raise TokenRefused(
            "jwks-unavailable", f"the discovery document {source.discovery_url} has no jwks_uri"
        )
    return _keys(_get_json(jwks_uri, source), jwks_uri)


def _get_json(url: str, source: KeySource):
    try:
        resp = open_url(
            url, timeout=source.timeout, validate_certs=source.validate_certs, follow_redirects="safe"
        )
        return json.loads(resp.read(MAX_DOCUMENT_BYTES + 1)[:MAX_DOCUMENT_BYTES])
    except ValueError as err:
        raise TokenRefused("jwks-unavailable", f"{url} did not answer JSON ({err}); failing closed") from None
    except Exception as err:  # open_url raises URLError, HTTPError, socket and SSL errors alike
        raise TokenRefused("jwks-unavailable", f"cannot fetch {url} ({err}); failing closed") from None


def _keys(document, where: str) -> list:
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise TokenRefused("jwks-unavailable", f"{where} is not a JWKS (no keys list); failing closed")
    return keys


def _read_cache(path: str, ttl: int) -> list | None:
    try:
        if time.time() - os.stat(path).st_mtime > ttl:
            return None
        with open(path, encoding="utf-8") as handle:
            keys = json.load(handle)
    except (OSError, ValueError):
        return None
    return keys if isinstance(keys, list) else None


def _write_cache(path: str, keys: list) -> None:
    """Best effort (a read-only home only costs a fetch per run); atomic so readers never see half a file."""
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".jwks-", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(keys, handle)
        os.replace(tmp, path)
    except OSError:
        return
