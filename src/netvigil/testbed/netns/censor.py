"""The censor's own servers in the router namespace: censored DNS and responders.

Packet rules (:mod:`netvigil.testbed.netns.rules`) drop and reset by
themselves; what needs an answer is diverted by DNAT to a server here, on
:data:`~netvigil.testbed.netns.layout.CENSOR_SERVICES`:

* per client, a censored DNS server applying the scenario's DNS rules for that
  client (:func:`~netvigil.testbed.policy.dns_policy`, the loopback censor's
  resolver): the router hijacks the client's queries to the resolver;
* per intercepting TLS rule, an interceptor that completes the handshake with
  a certificate from the untrusted censor CA
  (:class:`~netvigil.testbed.intercept.Intercept`);
* per blockpage or close HTTP rule, a responder that reads the request and
  answers with the page (:class:`~netvigil.testbed.censor.InjectPage`) or a
  FIN (:class:`~netvigil.testbed.censor.Close`).

Responders are the loopback censor's actions, given a connection the way the
loopback middle gives them one (first bytes read, SNI or Host known).  Every
port is picked by the kernel and reported in the ready line, so the testbed
writes its DNAT rules afterwards.
"""

from __future__ import annotations

import asyncio
import functools
from contextlib import AsyncExitStack
from typing import Any

from netvigil.testbed.aio import Supervisor, bind_tcp
from netvigil.testbed.censor import Action, Close, Flow, InjectPage, Link
from netvigil.testbed.dns_censor import DnsServer
from netvigil.testbed.intercept import Intercept
from netvigil.testbed.loopback.middle import read_first_bytes
from netvigil.testbed.policy import dns_policy
from netvigil.testbed.netns.layout import CENSOR_SERVICES
from netvigil.testbed.netns.rules import Diversion, diversions
from netvigil.testbed.netns.run import RunSpec
from netvigil.testbed.pki import TestbedPKI
from netvigil.testbed.scenarios.scenario import Client, HttpAction, HttpRule, Scenario, TlsRule


async def start_censor(spec: RunSpec, stack: AsyncExitStack) -> dict[str, Any]:
    """Start every censor server; the ready line maps clients and responder keys to ports."""
    supervisor = Supervisor("censor")
    stack.push_async_callback(supervisor.close)
    plan, scenario = spec.plan, spec.scenario
    dns: dict[str, int] = {}
    for client in scenario.clients:
        server = await DnsServer(dns_policy(scenario, plan, client), supervisor).start(CENSOR_SERVICES)
        dns[client.name] = server.port
    pki = spec.pki("censor")
    responders: dict[str, int] = {}
    for diversion in diversions(scenario, plan):
        responders[diversion.key] = await _respond_with(_action(diversion, scenario, pki), supervisor)
    return {"dns": dns, "responders": responders}


def _action(diversion: Diversion, scenario: Scenario, pki: TestbedPKI) -> Action:
    rule = diversion.rule
    if isinstance(rule, TlsRule):
        return Intercept(pki)
    return _http_answer(rule, scenario)


def _http_answer(rule: HttpRule, scenario: Scenario) -> Action:
    if rule.action is HttpAction.CLOSE:
        return Close()
    assert rule.page is not None, "a blockpage rule names its page (validated on load)"
    return InjectPage(scenario.page(rule.page))


async def _respond_with(action: Action, supervisor: Supervisor) -> int:
    sock = bind_tcp(CENSOR_SERVICES, 0)
    port: int = sock.getsockname()[1]
    await supervisor.serve(functools.partial(_respond, action), sock)
    return port


async def _respond(action: Action, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read what the client sends first (request or ClientHello), then act as the rule says."""
    address, port = writer.get_extra_info("sockname")[:2]
    link = Link(reader, writer, Flow(Client("diverted"), address, port))
    await read_first_bytes(link)
    await action.act(link)
