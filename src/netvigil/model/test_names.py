"""OONI test names netvigil accepts (ooni/spec nettests/ts-*.md, plus legacy names).

A measurement whose ``test_name`` is not here is quarantined as unknown rather
than stored: the name is how every later layer decides what the test keys mean.
``web_connectivity`` is analysed by ``analysis/web.py``; most other tests by
``analysis/nettests.py`` (its registry lists them); the rest are stored only.
"""

ANALYSED_TEST_NAMES = frozenset({"web_connectivity"})

KNOWN_TEST_NAMES = frozenset({
    "bridge_reachability", "browser_web", "captive_portal", "dash", "dns_consistency",
    "dns_injection", "dns_spoof", "dnscheck", "dnsping", "echcheck",
    "facebook_messenger", "http_header_field_manipulation", "http_host",
    "http_invalid_request_line", "http_requests", "lantern", "meek_fronted_requests_test",
    "multi_protocol_traceroute", "ndt", "openvpn", "port_filtering", "psiphon",
    "quicping", "riseupvpn", "signal", "simplequicping", "sni_blocking",
    "stunreachability", "tcp_connect", "tcpping", "telegram", "tlsmiddlebox",
    "tlsping", "tor", "torsf", "urlgetter", "vanilla_tor", "web_connectivity",
    "whatsapp", "bridget", "example",
})
