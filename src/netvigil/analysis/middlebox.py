"""Middlebox tests -> verdicts (pure): a middlebox found is ``tampered``, never ``blocked``.

ts-006 compares the headers the probe sent with those the helper echoes back:
any difference in a name's case, a value, or the count means something in the
path parsed and rewrote the request (a transparent proxy).  ``Connection:
close`` is ignored, as OONI's fastpath does, because HTTP stacks add or drop it.
ts-007 compares each invalid request line with what came back; an empty echo is
not evidence (the line may simply have timed out), a different one is.
"""

from __future__ import annotations

from netvigil.analysis.nettest_rules import ruling
from netvigil.analysis.rules import Hop
from netvigil.analysis.step_chain import Judgement, no_data
from netvigil.model.middlebox import HeaderExchange, HeaderManipulationKeys, RequestLineKeys
from netvigil.model.verdict import Technique, Verdict

_IGNORED = {("connection", "close")}
_ANYWHERE = Hop("", 0)


def analyze_header_manipulation(keys: HeaderManipulationKeys) -> Judgement:
    if not keys.exchanges:
        return no_data("http_header_field_manipulation recorded no request",
                       probe_tampering=keys.probe_tampering or None)
    verdicts = tuple(_exchange_verdict(x) for x in keys.exchanges)
    summary = next((v for v in verdicts if v.outcome.value == "tampered"), None) \
        or next((v for v in verdicts if v.outcome.value == "ok"), verdicts[0])
    return Judgement(verdicts, summary)


def _exchange_verdict(x: HeaderExchange) -> Verdict:
    at = Hop(_host(x), 0)
    if x.received is None:
        return ruling("middlebox.helper_unreachable").verdict(
            Technique.UNKNOWN, at=at, endpoint=x.url, failure=x.failure, reason=x.echo_error)
    sent = {(k, v) for k, v in x.sent if (k.lower(), v.lower()) not in _IGNORED}
    got = {(k, v) for k, v in x.received if (k.lower(), v.lower()) not in _IGNORED}
    if sent == got:
        return ruling("middlebox.headers_intact").verdict(Technique.OK, at=at, endpoint=x.url, headers=len(sent))
    changed = sorted({k for k, _ in sent ^ got})
    return ruling("middlebox.headers_modified").verdict(
        Technique.HTTP_MIDDLEBOX, at=at, endpoint=x.url, headers_differing=changed[:20],
        case_normalised=sorted({k for k, _ in got} - {k for k, _ in sent})[:20] or None,
        header_count_sent=len(sent), header_count_received=len(got))


def _host(x: HeaderExchange) -> str:
    return next((v for k, v in x.sent if k.lower() == "host"), "")


def analyze_request_line(keys: RequestLineKeys) -> Judgement:
    pairs = list(zip(keys.sent, keys.received, strict=False))
    if not pairs:
        return no_data("http_invalid_request_line recorded nothing sent or received",
                       probe_tampering=keys.probe_tampering)
    differing = [i for i, (s, r) in enumerate(pairs) if r and r != s]
    silent = [i for i, (_, r) in enumerate(pairs) if not r]
    ev = dict(lines=len(pairs), echoed=len(pairs) - len(differing) - len(silent), differing=len(differing),
              no_echo=len(silent) or None, probe_tampering=keys.probe_tampering)
    if differing:
        first = pairs[differing[0]]
        v = ruling("middlebox.request_line_answered").verdict(
            Technique.HTTP_MIDDLEBOX, at=_ANYWHERE, sent=first[0][:120], received=first[1][:300], **ev)
    elif silent and len(silent) == len(pairs):
        v = ruling("middlebox.helper_unreachable").verdict(Technique.UNKNOWN, at=_ANYWHERE, **ev)
    else:
        v = ruling("middlebox.request_line_echoed").verdict(Technique.OK, at=_ANYWHERE, **ev)
    return Judgement((v,), v)
