"""A real DNS server for tests (dnslib): answers A records from a dict on 127.0.0.1, NXDOMAIN for other names."""

from __future__ import annotations

import contextlib

from cluster import local_ports
from dnslib import QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class _Zone(BaseResolver):
    def __init__(self, records: dict[str, list[str]]):
        self.records = records

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if name not in self.records:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.A:
            for address in self.records[name]:
                reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(address), ttl=60))
        return reply


@contextlib.contextmanager
def serving(records: dict[str, list[str]]):
    """Yield the UDP port of a DNS server answering ``records``; stopped on exit."""
    port = local_ports.free_port()
    server = DNSServer(
        _Zone(records), port=port, address="127.0.0.1", logger=DNSLogger("-request,-reply,-truncated")
    )
    server.start_thread()
    try:
        yield port
    finally:
        server.stop()
        server.server.server_close()
