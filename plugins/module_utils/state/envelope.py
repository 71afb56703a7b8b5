"""AES-256-GCM envelope of the credentials state object (key parsing, encrypt, decrypt)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os

from ansible_collections.octo.platform.plugins.module_utils.common.errors import (
    DependencyError,
    OctoError,
    ValidationError,
)

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    IMPORT_ERROR = None
except ImportError as err:
    IMPORT_ERROR = err

FORMAT = "octo-state/v1"
ALGORITHM = "AES-256-GCM"
NONCE_BYTES = 12
KEY_BYTES = 32


def parse_key(text: str | None) -> bytes:
    """A 32-byte key from base64 (standard or URL-safe) or 64 hex digits; never echoes the value."""
    if not text:
        raise ValidationError("state encryption key", "encryption_key", "required (or set OCTO_STATE_KEY)")
    text = text.strip()
    candidates = []
    if len(text) == 2 * KEY_BYTES:
        candidates.append(lambda: bytes.fromhex(text))
    candidates.append(lambda: base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_"))
    candidates.append(lambda: base64.b64decode(text + "=" * (-len(text) % 4), validate=True))
    for decode in candidates:
        try:
            key = decode()
        except (ValueError, binascii.Error):
            continue
        if len(key) == KEY_BYTES:
            return key
    raise ValidationError(
        "state encryption key",
        "encryption_key",
        "must be 32 bytes, base64 or hex encoded (e.g. openssl rand -base64 32)",
    )


def key_id(key: bytes) -> str:
    """A short public fingerprint that tells a wrong key from a corrupted object."""
    return hashlib.sha256(b"octo-state-key-id:" + key).hexdigest()[:16]


def _aead(key: bytes):
    if IMPORT_ERROR is not None:
        raise DependencyError("cryptography", "cryptography", IMPORT_ERROR)
    return AESGCM(key)


def encrypt(key: bytes, payload: dict, context: str) -> bytes:
    """The envelope (JSON bytes) holding payload encrypted; context is bound as associated data."""
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = _aead(key).encrypt(nonce, json.dumps(payload, sort_keys=True).encode(), context.encode())
    envelope = {
        "format": FORMAT,
        "algorithm": ALGORITHM,
        "key_id": key_id(key),
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    return (json.dumps(envelope, sort_keys=True, indent=2) + "\n").encode()


def decrypt(key: bytes, data: bytes, context: str, what: str) -> dict:
    """The payload of an envelope; a wrong key or a tampered object is a clear error."""
    try:
        envelope = json.loads(data)
        if envelope.get("format") != FORMAT or envelope.get("algorithm") != ALGORITHM:
            raise ValueError(f"unknown format {envelope.get('format')!r}")
        nonce = base64.b64decode(envelope["nonce"])
        ciphertext = base64.b64decode(envelope["ciphertext"])
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise OctoError("read", what, f"not an {FORMAT} envelope ({type(err).__name__})") from None
    if envelope.get("key_id") != key_id(key):
        raise OctoError(
            "decrypt",
            what,
            "the encryption key does not match the key this state was written with; "
            "use the original key (nothing was regenerated or written)",
        )
    try:
        plaintext = _aead(key).decrypt(nonce, ciphertext, context.encode())
    except InvalidTag:
        raise OctoError(
            "decrypt", what, "authentication failed: the object was modified or is corrupted"
        ) from None
    return json.loads(plaintext)
