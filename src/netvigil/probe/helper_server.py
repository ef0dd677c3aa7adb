"""``netvigil helper``: the Web Connectivity test helper (ts-017) over HTTP.

``POST /`` with a control request answers the control measurement made with the
probe's own steps (:mod:`th`), connecting directly -- never through a censor.
``GET /`` is a health check.  It connects to public addresses only (no SSRF,
no port scans of its own network) unless started for a testbed with
``allow_private_targets``.  Every response carries the client's address in
``X-Netvigil-Client-Ip`` so that our probes learn their public address and
scrub it from their measurements; it never appears in the JSON answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import orjson

from netvigil.analysis.asn import AsnLookup
from netvigil.probe.config import parse_udp_resolver
from netvigil.probe.control import CLIENT_IP_HEADER
from netvigil.probe.httpserver import Request, Response, ServerLimits, serve
from netvigil.probe.net import Net
from netvigil.probe.target_policy import TargetPolicy
from netvigil.probe.th import BadControlRequest, control_answer, parse_control_request
from netvigil.probe.tls import client_context

log = logging.getLogger(__name__)
MAX_CONCURRENT = 128


class HelperServer:
    def __init__(self, server: asyncio.Server, host: str) -> None:
        self._server = server
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}"

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def serve_forever(self) -> None:
        await self._server.serve_forever()


async def start_helper(*, host: str, port: int, resolver: str | None, ca_file: str | None,
                       net: Net | None = None, allow_private_targets: bool = False,
                       asn: AsnLookup | None = None) -> HelperServer:
    """Listen on ``host:port`` (0: any free port).  ``resolver`` is "udp://HOST:PORT" or None
    for the system resolver; ``net`` overrides the network setup (timeouts, caps) but never the
    target policy: loopback, private, link-local and own addresses are refused unless
    ``allow_private_targets`` (testbeds only; see :mod:`netvigil.probe.target_policy`).
    ``asn`` fills ``ip_info`` with AS numbers."""
    net = net or Net(udp_resolver=parse_udp_resolver(resolver) if resolver else None,
                     use_system_resolver=True, tls_context=client_context(ca_file))
    net = dataclasses.replace(net, target_policy=TargetPolicy(allow_private=allow_private_targets))
    slots = asyncio.Semaphore(MAX_CONCURRENT)

    async def handle(request: Request) -> Response:
        echo = ((CLIENT_IP_HEADER, request.peer_ip),)
        if request.path.split("?", 1)[0] != "/":
            return Response.json(404, {"error": "not found"}, echo)
        if request.method == "GET":
            return Response.json(200, {"service": "netvigil helper", "protocol": "ts-017"}, echo)
        if request.method != "POST":
            return Response.json(405, {"error": "use POST /"}, echo)
        try:
            query = parse_control_request(orjson.loads(request.body))
        except orjson.JSONDecodeError as exc:
            return Response.json(400, {"error": f"malformed JSON: {exc}"}, echo)
        except BadControlRequest as exc:
            return Response.json(400, {"error": str(exc)}, echo)
        async with slots:
            answer = await control_answer(query, net=net, asn=asn)
        return Response.json(200, answer, echo)

    server = await serve(handle, host, port, ServerLimits())
    helper = HelperServer(server, host)
    log.info("helper listening on %s", helper.url)
    return helper
