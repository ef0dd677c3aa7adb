"""Circumvention scenarios: Tor targets, tunnel bootstraps and meek, read by how far they got."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib does not add it
from nettest_builders import measurement, steps, tcp  # noqa: E402


def analyse(test_name: str, tk, **envelope):
    return analyze_measurement(measurement_from_dict(measurement(test_name, tk, **envelope)), FingerprintDB.empty())


def boot(failure=None, progress=None, tag=None, bootstrap_time=0.0, **extra):
    tk = {"failure": failure, "bootstrap_time": bootstrap_time, "timeout": 200, **extra}
    if progress is not None:
        tk |= {"tor_progress": progress, "tor_progress_tag": tag or "x", "success": failure is None}
    return tk


T = "generic_timeout_error"
# name -> (test, test keys, (outcome, technique, rule id))
BOOTSTRAPS = {
    "vanilla tor done": ("vanilla_tor", boot(progress=100, tag="done", bootstrap_time=9.5), ("ok", "ok", "tunnel.bootstrapped")),
    "vanilla tor never reached a relay": ("vanilla_tor", boot(T, 5, "conn"),
                                          ("blocked", "tunnel.bootstrap", "tunnel.no_relay_reached")),
    "vanilla tor stalled in the handshake": ("vanilla_tor", boot(T, 15, "handshake"),
                                             ("blocked", "tunnel.bootstrap", "tunnel.stalled_in_handshake")),
    "vanilla tor stalled loading the directory": ("vanilla_tor", boot(T, 50, "loading_descriptors"),
                                                  ("unknown", "tunnel.bootstrap", "tunnel.stalled_late")),
    "tor never started (0%)": ("vanilla_tor", boot(T, 0, "starting"), ("unknown", "tunnel.bootstrap", "tunnel.never_started")),
    "an unknown failure says nothing": ("vanilla_tor", boot("unknown_failure: tor exited", 5, "conn"),
                                        ("unknown", "unknown", "tunnel.failure_unexplained")),
    "Twisted-era log reaching 100%": ("vanilla_tor", {"tor_log": "Bootstrapped 80%: x\nBootstrapped 100%: Done"},
                                      ("ok", "ok", "tunnel.bootstrapped")),
    "Twisted-era log stuck at 10%, no failure recorded": ("vanilla_tor", {"tor_log": "Bootstrapped 10%: Finishing handshake",
                                                                          "success": False},
                                                          ("unknown", "unknown", "tunnel.failure_unexplained")),
    "snowflake done": ("torsf", boot(bootstrap_time=40.0), ("ok", "ok", "tunnel.bootstrapped")),
    "snowflake timed out at 30%": ("torsf", boot(T, 30, "loading_status"),
                                   ("unknown", "tunnel.bootstrap", "tunnel.snowflake_failed")),
    "psiphon bootstrapped": ("psiphon", boot(bootstrap_time=6.6), ("ok", "ok", "tunnel.bootstrapped")),
    "psiphon could not bootstrap": ("psiphon", boot(T), ("blocked", "tunnel.bootstrap", "tunnel.psiphon_bootstrap_failed")),
    "psiphon failed after bootstrapping": ("psiphon", boot("eof_error", bootstrap_time=6.6),
                                           ("unknown", "unknown", "tunnel.failed_after_bootstrap")),
    "psiphon with neither failure nor bootstrap time": ("psiphon", boot(), ("unknown", "unknown", "tunnel.failure_unexplained")),
    "nothing about the bootstrap": ("torsf", {"other": 1}, ("unknown", "unknown", "steps.no_data")),
}


@pytest.mark.parametrize("name", sorted(BOOTSTRAPS))
def test_bootstrap_scenario(name):
    test_name, tk, expected = BOOTSTRAPS[name]
    s = analyse(test_name, tk).summary
    assert (s.outcome.value, s.technique.value, s.rule.split("@")[0]) == expected, s.to_dict()


def target(address, protocol, failure=None, *, connect_ok=True, ran=True, handshake=None):
    ip, _, port = address.rpartition(":")
    return {"target_address": address, "target_protocol": protocol, "failure": failure if ran else False,
            "summary": {"connect": {"failure": None if connect_ok else failure},
                        **({"handshake": {"failure": handshake}} if handshake else {})},
            **steps(tcp_connect=[tcp(ip, int(port), None if connect_ok else failure)])}


def tor(*targets):
    return {"targets": {f"id{i}": t for i, t in enumerate(targets)}}


TARGETS = {
    "every target reached": (tor(target("1.2.3.4:443", "or_port"), target("5.6.7.8:9001", "obfs4")),
                             ("ok", "ok", "tor.targets_reachable")),
    "one relay down among four": (tor(target("1.2.3.4:443", "or_port"), target("1.2.3.5:443", "or_port"),
                                      target("1.2.3.6:443", "or_port"),
                                      target("1.2.3.7:443", "or_port", T, connect_ok=False)),
                                  ("ok", "ok", "tor.targets_reachable")),
    "three of four time out on connect": (tor(target("1.2.3.4:443", "or_port"),
                                              *[target(f"1.2.3.{i}:443", "or_port", T, connect_ok=False) for i in (5, 6, 7)]),
                                          ("blocked", "tcp.timeout", "tor.targets_blocked")),
    "obfs4 handshakes reset after connecting": (tor(*[target(f"9.9.9.{i}:443", "obfs4", "connection_reset",
                                                             handshake="connection_reset") for i in (1, 2)]),
                                                ("blocked", "tls.reset", "tor.targets_blocked")),
    "every connect timed out: no sign the network worked": (
        tor(*[target(f"1.2.3.{i}:443", "or_port", T, connect_ok=False) for i in (5, 6)]),
        ("unknown", "unknown", "tor.targets_unjudged")),
    "targets not run": (tor(target("1.2.3.4:443", "or_port", ran=False)), ("unknown", "unknown", "tor.targets_unjudged")),
    "no targets": ({"targets": None}, ("unknown", "unknown", "steps.no_data")),
    "2020-01 list format": ({"targets": [target("1.2.3.4:443", "or_port")]}, ("ok", "ok", "tor.targets_reachable")),
}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_tor_targets_scenario(name):
    tk, expected = TARGETS[name]
    s = analyse("tor", tk).summary
    assert (s.outcome.value, s.technique.value, s.rule.split("@")[0]) == expected, s.to_dict()


def test_a_single_failed_target_is_never_blocked_on_its_own():
    verdicts = analyse("tor", TARGETS["three of four time out on connect"][0]).verdicts
    assert sorted(v.outcome.value for v in verdicts) == ["ok", "unknown", "unknown", "unknown"]
    assert {v.layer.value for v in verdicts if v.outcome.value == "unknown"} == {"tcp"}


def meek(code, body, failure=None):
    response = None if failure else {"code": code, "body": body, "headers": {"Server": "ECAcc (x)"}}
    return {"requests": [{"request": {"url": "https://ajax.aspnetcdn.com", "headers": {"Host": "meek.azureedge.net"}},
                          "response": response, "failure": failure}], "success": code == 200}


@pytest.mark.parametrize(("tk", "expected"), [
    (meek(200, "I’m just a happy little web server.\n"), ("ok", "meek.fronted_ok")),
    (meek(403, "<html>ERROR: The request could not be satisfied</html>"), ("down", "meek.front_refused")),
    (meek(None, "", failure="connection_reset"), ("unknown", "steps.failed_nothing_worked")),
    ({"requests": []}, ("unknown", "steps.no_data")),
])
def test_meek(tk, expected):
    s = analyse("meek_fronted_requests_test", tk, input=["ajax.aspnetcdn.com", "meek.azureedge.net"]).summary
    assert (s.outcome.value, s.rule.split("@")[0]) == expected, s.to_dict()
