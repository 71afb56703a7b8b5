"""Streamed AES-256-GCM framing: round trip, wrong key, and every kind of damage refused."""

from __future__ import annotations

import io
import os

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError
from ansible_collections.octo.platform.plugins.module_utils.state import backup_crypto

KEY = bytes(range(32))


def sealed(data: bytes) -> bytes:
    sink = io.BytesIO()
    backup_crypto.encrypt_stream(KEY, io.BytesIO(data), sink)
    return sink.getvalue()


def opened(data: bytes, key: bytes = KEY) -> bytes:
    sink = io.BytesIO()
    backup_crypto.decrypt_stream(key, io.BytesIO(data), sink, "backup x")
    return sink.getvalue()


@pytest.mark.parametrize("size", [0, 1, backup_crypto.CHUNK, 2 * backup_crypto.CHUNK + 5])
def test_round_trip_over_chunk_boundaries(size):
    data = os.urandom(size)
    assert opened(sealed(data)) == data


def test_wrong_key_is_told_apart_from_damage():
    with pytest.raises(OctoError, match="backup key does not match"):
        opened(sealed(b"dump"), key=bytes(32))


def test_flipped_byte_truncation_dropped_and_appended_chunks_are_refused():
    data = sealed(os.urandom(2 * backup_crypto.CHUNK + 5))
    header, frame = backup_crypto.HEADER_BYTES, 4 + backup_crypto.CHUNK + 16
    flipped = bytearray(data)
    flipped[header + frame + 100] ^= 1
    cases = {
        "authentication failed at chunk 1": bytes(flipped),
        "truncated": data[: header + 2 * frame],  # final chunk dropped
        "authentication failed at chunk 1:": data[:header]
        + data[header : header + frame]
        + data[header + 2 * frame :],
        "data after the final chunk": data + data[header : header + frame],
        "not an octo backup": b"PGDMP" + data[5:],
    }
    for message, damaged in cases.items():
        with pytest.raises(OctoError, match=message):
            opened(damaged)
