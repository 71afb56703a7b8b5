"""Streamed AES-256-GCM for backups: a header, then length-prefixed chunks each sealed with its own tag.

Layout: ``MAGIC | key id (16 ASCII hex) | nonce prefix (8 bytes)``, then frames ``length (4 bytes) |
ciphertext+tag``. Chunk ``i`` uses the nonce ``prefix | i`` and the associated data ``header | i | final``, so
a reordered, dropped, truncated or appended chunk fails authentication like a modified byte does.
"""

from __future__ import annotations

import hashlib
import os
import struct

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.state import envelope

MAGIC = b"OCTOBAK1"
CHUNK = 1 << 20
HEADER_BYTES = len(MAGIC) + 16 + 8
MAX_FRAME = CHUNK + 16


def encrypt_stream(key: bytes, source, sink) -> tuple[int, str]:
    """Encrypt everything read from source into sink; returns (plaintext bytes, plaintext sha256)."""
    aead = envelope._aead(key)
    header = MAGIC + envelope.key_id(key).encode() + os.urandom(8)
    sink.write(header)
    digest, size, index = hashlib.sha256(), 0, 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK) if chunk else b""
        final = not following
        digest.update(chunk)
        size += len(chunk)
        sealed = aead.encrypt(_nonce(header, index), chunk, _aad(header, index, final))
        sink.write(struct.pack(">I", len(sealed)) + sealed)
        if final:
            return size, digest.hexdigest()
        chunk, index = following, index + 1


def decrypt_stream(key: bytes, source, sink, what: str) -> tuple[int, str]:
    """Decrypt source into sink, every chunk authenticated; a wrong key or any damage is an OctoError."""
    aead = envelope._aead(key)
    header = source.read(HEADER_BYTES)
    if len(header) != HEADER_BYTES or not header.startswith(MAGIC):
        raise OctoError("read", what, "not an octo backup (bad header)")
    if header[len(MAGIC) : len(MAGIC) + 16].decode("ascii", "replace") != envelope.key_id(key):
        raise OctoError(
            "decrypt", what, "the backup key does not match the key this backup was encrypted with"
        )
    digest, size, index = hashlib.sha256(), 0, 0
    while True:
        sealed = _frame(source, what)
        chunk, final = _open(aead, header, index, sealed, what)
        digest.update(chunk)
        size += len(chunk)
        sink.write(chunk)
        if final:
            if source.read(1):
                raise OctoError("decrypt", what, "data after the final chunk: the backup was modified")
            return size, digest.hexdigest()
        index += 1


def _frame(source, what: str) -> bytes:
    prefix = source.read(4)
    if len(prefix) != 4:
        raise OctoError("decrypt", what, "the backup is truncated (no final chunk)")
    length = struct.unpack(">I", prefix)[0]
    sealed = source.read(length) if length <= MAX_FRAME else b""
    if length > MAX_FRAME or len(sealed) != length:
        raise OctoError("decrypt", what, "the backup is truncated or corrupted (bad chunk length)")
    return sealed


def _open(aead, header: bytes, index: int, sealed: bytes, what: str) -> tuple[bytes, bool]:
    """(plaintext, whether it is the final chunk): the final flag is authenticated, not stored."""
    for final in (False, True):
        try:
            return aead.decrypt(_nonce(header, index), sealed, _aad(header, index, final)), final
        except envelope.InvalidTag:
            continue
    raise OctoError("decrypt", what, f"authentication failed at chunk {index}: the backup is corrupted")


def _nonce(header: bytes, index: int) -> bytes:
    return header[-8:] + struct.pack(">I", index)


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">QB", index, int(final))
