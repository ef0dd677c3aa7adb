"""Route a measurement of a test other than web_connectivity to its family's analysis.

An explicit registry (test_name -> parser + analysis), no discovery: the name is
what says how the test keys read.  ``analyze_nettest`` returns ``None`` for a
test with no analysis here, so the caller keeps its "stored, not analysed" path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netvigil.analysis.circumvention import analyze_bootstrap, analyze_meek, analyze_tor
from netvigil.analysis.experimental import analyze_browser_web, analyze_dnscheck, analyze_stun, analyze_urlgetter
from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.im import analyze_im
from netvigil.analysis.middlebox import analyze_header_manipulation, analyze_request_line
from netvigil.analysis.performance import analyze_performance
from netvigil.analysis.step_chain import Judgement, no_data
from netvigil.model.circumvention import parse_bootstrap, parse_meek, parse_tor
from netvigil.model.experimental import parse_browser_web, parse_dnscheck, parse_stun, parse_urlgetter
from netvigil.model.im import IM_TEST_NAMES, parse_im
from netvigil.model.measurement import Measurement
from netvigil.model.middlebox import parse_header_manipulation, parse_request_line
from netvigil.model.performance import parse_dash, parse_ndt

# riseupvpn's own conclusions, kept as evidence beside its judged steps.
_RISEUP_STATUS = ("api_status", "api_failure", "ca_cert_status")

Analyser = Callable[[Measurement, dict[str, Any], FingerprintDB], Judgement]

NETTEST_ANALYSERS: dict[str, Analyser] = {
    **{name: (lambda m, tk, fp: analyze_im(parse_im(m.test_name, tk), fingerprints=fp, probe_cc=m.probe_cc))
       for name in IM_TEST_NAMES},
    "tor": lambda m, tk, fp: analyze_tor(parse_tor(tk)),
    "vanilla_tor": lambda m, tk, fp: analyze_bootstrap(parse_bootstrap("vanilla_tor", tk)),
    "torsf": lambda m, tk, fp: analyze_bootstrap(parse_bootstrap("torsf", tk)),
    "psiphon": lambda m, tk, fp: analyze_bootstrap(parse_bootstrap("psiphon", tk)),
    "meek_fronted_requests_test": lambda m, tk, fp: analyze_meek(parse_meek(tk, m.raw.get("input"))),
    "http_header_field_manipulation": lambda m, tk, fp: analyze_header_manipulation(parse_header_manipulation(tk)),
    "http_invalid_request_line": lambda m, tk, fp: analyze_request_line(parse_request_line(tk)),
    "dnscheck": lambda m, tk, fp: analyze_dnscheck(parse_dnscheck(tk)),
    "stunreachability": lambda m, tk, fp: analyze_stun(parse_stun(tk)),
    "urlgetter": lambda m, tk, fp: analyze_urlgetter(parse_urlgetter(tk), fingerprints=fp, probe_cc=m.probe_cc),
    "riseupvpn": lambda m, tk, fp: analyze_urlgetter(parse_urlgetter(tk), probe_status=_status(tk, _RISEUP_STATUS),
                                                     fingerprints=fp, probe_cc=m.probe_cc),
    "openvpn": lambda m, tk, fp: analyze_bootstrap(parse_bootstrap("openvpn", tk)),
    "browser_web": lambda m, tk, fp: analyze_browser_web(parse_browser_web(tk)),
    "ndt": lambda m, tk, fp: analyze_performance(parse_ndt(tk)),
    "dash": lambda m, tk, fp: analyze_performance(parse_dash(tk)),
}


def analyze_nettest(m: Measurement, fingerprints: FingerprintDB) -> Judgement | None:
    """Verdicts for ``m`` if its test has an analysis here (raises BadRecord on malformed keys)."""
    analyser = NETTEST_ANALYSERS.get(m.test_name)
    if analyser is None:
        return None
    tk = m.test_keys
    if tk is None:
        return no_data("the measurement has no test_keys")
    return analyser(m, tk, fingerprints)


def _status(tk: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any] | None:
    found = {k: tk[k] for k in keys if isinstance(tk.get(k), (str, bool))}
    return found or None
