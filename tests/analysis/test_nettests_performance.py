"""ndt and dash: never blocked; the figures are kept for throttling evidence."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.analysis.web import analyze_measurement
from netvigil.model.measurement import measurement_from_dict

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib does not add it
from nettest_builders import measurement  # noqa: E402

NDT7 = {"failure": None, "protocol": 7, "server": {"hostname": "ndt-mlab1-mil02.measurement-lab.org"},
        "summary": {"avg_rtt": 44.2, "download": 86462.9, "mss": 1460, "max_rtt": 72.7, "min_rtt": 20.7, "ping": 20.7,
                    "retransmit_rate": 0.01, "upload": 19788.6}, "download": [], "upload": []}
DASH = {"failure": None, "simple": {"connect_latency": 0.0198, "median_bitrate": 83985, "min_playout_delay": 0},
        "receiver_data": []}

CASES = {
    "ndt7 completed": ("ndt", NDT7, ("ok", "performance.measured"),
                       {"download_kbps": 86462.9, "upload_kbps": 19788.6, "avg_rtt_ms": 44.2, "min_rtt_ms": 20.7,
                        "retransmit_rate": 0.01, "server": "ndt-mlab1-mil02.measurement-lab.org"}),
    "ndt7 failed mid-test": ("ndt", {**NDT7, "failure": "connection_reset"}, ("unknown", "performance.failed"),
                             {"failure": "connection_reset", "download_kbps": 86462.9}),
    "ndt5 / Measurement Kit summary": ("ndt", {"failure": None, "simple": {"download": 5000.0, "upload": 900.0, "ping": 31.0},
                                               "test_s2c": [{}]},
                                       ("ok", "performance.measured"),
                                       {"download_kbps": 5000.0, "upload_kbps": 900.0, "avg_rtt_ms": 31.0}),
    "dash completed": ("dash", DASH, ("ok", "performance.measured"),
                       {"median_bitrate_kbps": 83985.0, "connect_latency_ms": pytest.approx(19.8)}),
    "dash failed": ("dash", {"failure": "generic_timeout_error"}, ("unknown", "performance.failed"),
                    {"failure": "generic_timeout_error"}),
    "dash without keys": ("dash", {}, ("unknown", "steps.no_data"), {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_performance(name):
    test_name, tk, expected, figures = CASES[name]
    s = analyze_measurement(measurement_from_dict(measurement(test_name, tk)), FingerprintDB.empty()).summary
    assert (s.outcome.value, s.rule.split("@")[0]) == expected, s.to_dict()
    for key, value in figures.items():
        assert s.evidence[key] == value, key
