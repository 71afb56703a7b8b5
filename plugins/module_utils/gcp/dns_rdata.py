"""Pure: record data (rrdatas) in the presentation form Cloud DNS stores and returns.

TXT/SPF: quoted character-strings of at most 255 bytes (a longer one is split), ``"`` and ``\\`` escaped,
other bytes outside printable ASCII as ``\\DDD``. A value not starting with a quote is ONE string (so
``v=spf1 -all`` stays one string; Cloud DNS would store unquoted words as separate strings). Domain names
inside CNAME/NS/PTR/MX/SRV data are lower-cased with a trailing dot, numbers lose leading zeros, CAA is
``<flags> <tag> "<value>"`` with a lower-case tag, IPv6 addresses are compressed.
"""

from __future__ import annotations

import ipaddress
import re

MAX_STRING = 255
TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|((?:[^\s"\\]|\\.)+))\s*', re.S)
ESCAPE = re.compile(r"\\(\d{3}|.)", re.S)
CAA_TAG = re.compile(r"^[A-Za-z0-9]+$")
NAME_CHARS = re.compile(r"^[A-Za-z0-9_*.-]+$")


def canonical(rtype: str, value: str) -> str:
    """value as Cloud DNS returns it; ValueError (with a short reason) when it is not valid rtype data."""
    form = FORMS.get(rtype)
    return form(value.strip()) if form else " ".join(value.split())


def _ipv4(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError("not an IPv4 address") from None


def _ipv6(value: str) -> str:
    try:
        return str(ipaddress.IPv6Address(value))
    except ValueError:
        raise ValueError("not an IPv6 address") from None


def _name(value: str) -> str:
    if not NAME_CHARS.match(value) or ".." in value:
        raise ValueError("not a domain name")
    return value.lower().rstrip(".") + "."


def _number(text: str, limit: int) -> str:
    if not (text.isascii() and text.isdigit()) or int(text) > limit:
        raise ValueError(f"{text!r} is not a number from 0 to {limit}")
    return str(int(text))


def _fields(value: str, count: int, layout: str) -> list[str]:
    parts = value.split()
    if len(parts) != count:
        raise ValueError(f"expected {layout}")
    return parts


def _mx(value: str) -> str:
    preference, host = _fields(value, 2, "<preference> <host>")
    return f"{_number(preference, 65535)} {_name(host)}"


def _srv(value: str) -> str:
    *numbers, target = _fields(value, 4, "<priority> <weight> <port> <target>")
    return " ".join([*(_number(n, 65535) for n in numbers), _name(target)])


def _caa(value: str) -> str:
    parts = value.split(None, 2)
    if len(parts) != 3 or not CAA_TAG.match(parts[1]):
        raise ValueError('expected <flags> <tag> "<value>"')
    flags, tag, data = parts
    strings = _strings(data) if data.startswith('"') else [data.encode()]
    if len(strings) != 1:
        raise ValueError("a CAA value is one string")
    return f"{_number(flags, 255)} {tag.lower()} {_quote(strings[0])}"


def _txt(value: str) -> str:
    strings = _strings(value) if value.startswith('"') else [value.encode()]
    return " ".join(_quote(chunk) for data in strings for chunk in _chunks(data))


def _strings(value: str) -> list[bytes]:
    """The character-strings of presentation-form text: quoted ones and bare words."""
    found, pos = [], 0
    while pos < len(value):
        match = TOKEN.match(value, pos)
        if not match:
            raise ValueError("unbalanced quotes")
        found.append(_unescape(match.group(1) if match.group(1) is not None else match.group(2)))
        pos = match.end()
    return found


def _unescape(text: str) -> bytes:
    out, pos = bytearray(), 0
    for match in ESCAPE.finditer(text):
        out += text[pos : match.start()].encode()
        code = match.group(1)
        if code.isdigit() and int(code) > 255:
            raise ValueError(f"\\{code} is not a byte")
        out += bytes([int(code)]) if code.isdigit() else code.encode()
        pos = match.end()
    return bytes(out + text[pos:].encode())


def _chunks(data: bytes) -> list[bytes]:
    return [data[i : i + MAX_STRING] for i in range(0, len(data), MAX_STRING)] or [b""]


def _quote(data: bytes) -> str:
    return '"' + "".join(_char(byte) for byte in data) + '"'


def _char(byte: int) -> str:
    if byte in b'"\\':
        return "\\" + chr(byte)
    return chr(byte) if 0x20 <= byte < 0x7F else f"\\{byte:03d}"


FORMS = {
    "A": _ipv4,
    "AAAA": _ipv6,
    "CNAME": _name,
    "NS": _name,
    "PTR": _name,
    "MX": _mx,
    "SRV": _srv,
    "CAA": _caa,
    "TXT": _txt,
    "SPF": _txt,
}
