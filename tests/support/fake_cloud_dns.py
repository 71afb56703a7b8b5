"""A local double of the Cloud DNS v1 REST API (managed zones, rrsets, changes) for tests.

Follows the documented semantics: a Change applies atomically; every deletion must match an existing
record set exactly (name, type, ttl, rrdatas) or the whole Change fails with 412 conditionNotMet; adding a
set that exists (and is not deleted in the same Change) fails with 409 alreadyExists. A Change starts
``pending`` and reads ``done`` after ``pending_reads`` GETs. Errors use Google's JSON error shape.

Record names and data are stored in the form Cloud DNS returns (https://cloud.google.com/dns/records/json-record):
names lower-case with a trailing dot; TXT/SPF as quoted character-strings, where unquoted words are separate
strings and a string longer than 255 bytes is split into 255-byte chunks; domain names inside CNAME, MX, NS,
SRV and PTR data lower-case with a trailing dot; numbers without leading zeros; CAA as ``0 issue "ca.example"``
(tag lower-case); IPv6 compressed. Data that does not parse is a 400.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATUS_NAMES = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 409: "ALREADY_EXISTS", 412: "FAILED_PRECONDITION"}
ZONE_PATH = re.compile(
    r"^/dns/v1/projects/([^/]+)/managedZones(?:/([^/]+))?(?:/(rrsets|changes))?(?:/([^/]+))?$"
)


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def body(self) -> dict:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [{"domain": "global", "reason": self.reason, "message": self.message}],
                "status": STATUS_NAMES.get(self.code, "UNKNOWN"),
            }
        }


class FakeCloudDns:
    """Threaded HTTP server; ``url`` is the api_endpoint to give google-cloud-dns."""

    def __init__(self, pending_reads: int = 1, page_size: int = 2):
        self.pending_reads = pending_reads
        self.page_size = page_size
        self.lock = threading.Lock()
        self.zones: dict[tuple[str, str], dict] = {}
        self.rrsets: dict[tuple[str, str], dict[tuple[str, str], dict]] = {}
        self.changes: dict[tuple[str, str], list[dict]] = {}
        self.requests: list[tuple[str, str]] = []
        self.after_list = None  # one-shot hook called after an rrsets list, to simulate another writer
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeCloudDns:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeCloudDns:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # -- direct access for tests (what "another writer" would do through the API) --

    def create_zone(self, project: str, name: str, dns_name: str) -> dict:
        zone = {"kind": "dns#managedZone", "name": name, "dnsName": dns_name, "id": str(next(self._ids))}
        zone["nameServers"] = ["ns-cloud-a1.googledomains.com.", "ns-cloud-a2.googledomains.com."]
        with self.lock:
            self.zones[(project, name)] = zone
            self.changes[(project, name)] = []
            self.rrsets[(project, name)] = {
                (dns_name, "SOA"): _rrset(
                    dns_name, "SOA", 21600, ["ns-cloud-a1.googledomains.com. x 1 21600 3600"]
                ),
                (dns_name, "NS"): _rrset(dns_name, "NS", 21600, zone["nameServers"]),
            }
        return zone

    def get(self, project: str, zone: str, name: str, rtype: str) -> dict | None:
        with self.lock:
            found = self.rrsets[(project, zone)].get((name, rtype))
            return json.loads(json.dumps(found)) if found else None

    def put(self, project: str, zone: str, name: str, rtype: str, ttl: int, rrdatas: list[str]) -> None:
        record = _rrset(_dotted(name), rtype, ttl, [_rdata(rtype, value) for value in rrdatas])
        with self.lock:
            self.rrsets[(project, zone)][(record["name"], rtype)] = record

    def change_posts(self) -> list[dict]:
        return [change for changes in self.changes.values() for change in changes]

    # -- API --

    def handle(self, method: str, path: str, query: dict, body: dict | None) -> dict:
        match = ZONE_PATH.match(path)
        if not match:
            raise ApiError(404, "notFound", f"The requested URL {path} was not found.")
        project, zone_name, collection, item = match.groups()
        if zone_name is None:
            if method == "POST":
                return self.create_zone(project, body["name"], body["dnsName"])
            raise ApiError(400, "invalid", "unsupported managedZones call")
        key = (project, zone_name)
        if key not in self.zones:
            raise ApiError(
                404, "notFound", f"The 'parameters.managedZone' resource named '{zone_name}' does not exist."
            )
        if collection is None and method == "GET":
            return self.zones[key]
        if collection == "rrsets" and method == "GET" and item is None:
            return self._list(key, query)
        if collection == "changes" and method == "POST":
            return self._change(key, body or {})
        if collection == "changes" and method == "GET" and item is not None:
            return self._get_change(key, item)
        raise ApiError(400, "invalid", f"unsupported call {method} {path}")

    def _list(self, key, query: dict) -> dict:
        name, rtype = query.get("name"), query.get("type")
        if rtype and not name:
            raise ApiError(400, "invalid", "Invalid value for 'parameters.type': name must also be set.")
        with self.lock:
            items = [dict(r) for (n, t), r in sorted(self.rrsets[key].items()) if (not name or n == name)]
        items = [r for r in items if not rtype or r["type"] == rtype]
        start = int(query.get("pageToken") or 0)
        size = min(int(query.get("maxResults") or self.page_size), self.page_size)
        response = {"kind": "dns#resourceRecordSetsListResponse", "rrsets": items[start : start + size]}
        if start + size < len(items):
            response["nextPageToken"] = str(start + size)
        hook, self.after_list = self.after_list, None
        if hook:
            hook()
        return response

    def _change(self, key, body: dict) -> dict:
        zone = self.zones[key]
        deletions = [self._parse(r, zone, "deletions") for r in body.get("deletions", [])]
        additions = [self._parse(r, zone, "additions") for r in body.get("additions", [])]
        if not deletions and not additions:
            raise ApiError(400, "required", "The 'entity.change' parameter is required but was missing.")
        with self.lock:
            sets = self.rrsets[key]
            staged = dict(sets)
            for record in deletions:
                current = staged.get((record["name"], record["type"]))
                if current is None or not _same(current, record):
                    raise ApiError(
                        412,
                        "conditionNotMet",
                        f"Precondition not met for 'entity.change.deletions[{record['name']}][{record['type']}]'",
                    )
                del staged[(record["name"], record["type"])]
            for record in additions:
                if (record["name"], record["type"]) in staged:
                    raise ApiError(
                        409,
                        "alreadyExists",
                        f"The resource 'entity.change.additions[{record['name']}][{record['type']}]' "
                        f"named '{record['name']} ({record['type']})' already exists",
                    )
                staged[(record["name"], record["type"])] = record
            sets.clear()
            sets.update(staged)
            change = {
                "kind": "dns#change",
                "id": str(len(self.changes[key]) + 1),
                "status": "pending",
                "startTime": datetime.now(UTC).isoformat(),
                "additions": additions,
                "deletions": deletions,
                "_reads": 0,
            }
            self.changes[key].append(change)
            return _public(change)

    def _get_change(self, key, change_id: str) -> dict:
        with self.lock:
            for change in self.changes[key]:
                if change["id"] == change_id:
                    change["_reads"] += 1
                    if change["_reads"] >= self.pending_reads:
                        change["status"] = "done"
                    return _public(change)
        raise ApiError(
            404, "notFound", f"The 'parameters.changeId' resource named '{change_id}' does not exist."
        )

    @staticmethod
    def _parse(raw: dict, zone: dict, field: str) -> dict:
        name, rtype = _dotted(raw.get("name", "")), raw.get("type", "")
        if not name.endswith(zone["dnsName"]):
            raise ApiError(400, "invalid", f"Invalid value for 'entity.change.{field}[{name}].name'")
        if not rtype or not raw.get("rrdatas"):
            raise ApiError(400, "invalid", f"Invalid value for 'entity.change.{field}[{name}]'")
        try:
            ttl = int(raw.get("ttl"))
        except (TypeError, ValueError):
            raise ApiError(400, "invalid", f"Invalid value for 'entity.change.{field}[{name}].ttl'") from None
        rrdatas = []
        for index, value in enumerate(raw["rrdatas"]):
            try:
                rrdatas.append(_rdata(rtype, value))
            except (ValueError, IndexError):
                raise ApiError(
                    400,
                    "invalid",
                    f"Invalid value for 'entity.change.{field}[{name}].rrdata[{index}]': '{value}'",
                ) from None
        return _rrset(name, rtype, ttl, rrdatas)


def _dotted(name: str) -> str:
    return name.lower().rstrip(".") + "."


def _rdata(rtype: str, value: str) -> str:
    """value as Cloud DNS stores and returns it; ValueError/IndexError when it does not parse."""
    fields = value.split()
    if rtype in ("TXT", "SPF"):
        chunks = [part[i : i + 255] for part in _strings(value) for i in range(0, max(len(part), 1), 255)]
        if not chunks:
            raise ValueError(value)
        return " ".join(map(_quoted, chunks))
    if rtype in ("CNAME", "NS", "PTR") and len(fields) == 1:
        return _dotted(fields[0])
    if rtype == "MX" and len(fields) == 2:
        return f"{_number(fields[0])} {_dotted(fields[1])}"
    if rtype == "SRV" and len(fields) == 4:
        return " ".join([*(str(_number(f)) for f in fields[:3]), _dotted(fields[3])])
    if rtype == "CAA":
        flags, tag, rest = value.split(None, 2)
        (data,) = _strings(rest) if rest.startswith('"') else [rest.encode()]
        return f"{_number(flags, 255)} {tag.lower()} {_quoted(data)}"
    if rtype == "AAAA":
        return ipaddress.IPv6Address(value).compressed
    if rtype == "A":
        return str(ipaddress.IPv4Address(value))
    if rtype in ("CNAME", "NS", "PTR", "MX", "SRV"):
        raise ValueError(value)
    return " ".join(fields)


def _number(text: str, limit: int = 65535) -> int:
    number = int(text)
    if not 0 <= number <= limit:
        raise ValueError(text)
    return number


def _strings(text: str) -> list[bytes]:
    """RFC 1035 character-strings: "quoted ones" (\\X and \\DDD escapes) or bare words."""
    strings, current, quoted, i = [], None, False, 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            escape = text[i + 1 : i + 4]
            decimal = len(escape) == 3 and escape.isdigit()
            current = (current or bytearray()) + (bytes([int(escape)]) if decimal else text[i + 1].encode())
            i += 4 if decimal else 2
            continue
        if char == '"' or (char.isspace() and not quoted):
            if current is not None or quoted:
                strings.append(bytes(current or b""))
            current, quoted = None, (char == '"' and not quoted)
        else:
            current = (current or bytearray()) + char.encode()
        i += 1
    if quoted:
        raise ValueError("unterminated quoted string")
    return strings + ([bytes(current)] if current is not None else [])


def _quoted(data: bytes) -> str:
    text = "".join(
        "\\" + chr(b) if b in (34, 92) else chr(b) if 32 <= b < 127 else f"\\{b:03d}" for b in data
    )
    return f'"{text}"'


def _rrset(name: str, rtype: str, ttl: int, rrdatas: list[str]) -> dict:
    return {
        "kind": "dns#resourceRecordSet",
        "name": name,
        "type": rtype,
        "ttl": ttl,
        "rrdatas": list(rrdatas),
    }


def _same(current: dict, record: dict) -> bool:
    return current["ttl"] == record["ttl"] and sorted(current["rrdatas"]) == sorted(record["rrdatas"])


def _public(change: dict) -> dict:
    return {k: v for k, v in json.loads(json.dumps(change)).items() if not k.startswith("_")}


def _handler(fake: FakeCloudDns):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args):
            pass

        def _serve(self, method: str):
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.requests.append((method, parsed.path))
            try:
                code, payload = 200, fake.handle(method, parsed.path, query, body)
            except ApiError as err:
                code, payload = err.code, err.body()
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

    return Handler
