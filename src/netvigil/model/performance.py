"""Typed test keys of the performance tests ndt (ts-022) and dash (ts-021).

Only the summary figures are modelled: they are what throttling analysis needs
(speeds in kbit/s, latencies in ms), and the per-sample arrays are large.
ndt7 reports ``summary``; ndt5 and Measurement Kit reports keep ``simple``
(download/upload/ping) instead; dash reports ``simple`` with the median bitrate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netvigil.failures import normalize_failure
from netvigil.model.steps import obj, opt_float, opt_str


@dataclass(frozen=True, slots=True)
class PerformanceSummary:
    test_name: str
    failure: str | None
    download_kbps: float | None = None
    upload_kbps: float | None = None
    avg_rtt_ms: float | None = None
    min_rtt_ms: float | None = None
    max_rtt_ms: float | None = None
    retransmit_rate: float | None = None
    median_bitrate_kbps: float | None = None  # dash
    connect_latency_ms: float | None = None  # dash
    min_playout_delay_s: float | None = None  # dash
    server: str | None = None
    has_data: bool = True

    def figures(self) -> dict[str, Any]:
        """The measured figures, without the empty ones (the verdict's evidence)."""
        names = ("download_kbps", "upload_kbps", "avg_rtt_ms", "min_rtt_ms", "max_rtt_ms", "retransmit_rate",
                 "median_bitrate_kbps", "connect_latency_ms", "min_playout_delay_s", "server")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def parse_ndt(tk: dict[str, Any]) -> PerformanceSummary:
    s = obj(tk.get("summary"), "test_keys.summary")
    simple = obj(tk.get("simple"), "test_keys.simple")
    server = obj(tk.get("server"), "test_keys.server")
    return PerformanceSummary(
        test_name="ndt",
        failure=normalize_failure(tk.get("failure")),
        download_kbps=opt_float(s.get("download")) or opt_float(simple.get("download")),
        upload_kbps=opt_float(s.get("upload")) or opt_float(simple.get("upload")),
        avg_rtt_ms=opt_float(s.get("avg_rtt")) or opt_float(simple.get("ping")),
        min_rtt_ms=opt_float(s.get("min_rtt")),
        max_rtt_ms=opt_float(s.get("max_rtt")),
        retransmit_rate=opt_float(s.get("retransmit_rate")),
        server=opt_str(server.get("hostname")) or opt_str(tk.get("server_address")),
        has_data=bool(tk),
    )


def parse_dash(tk: dict[str, Any]) -> PerformanceSummary:
    simple = obj(tk.get("simple"), "test_keys.simple")
    latency = opt_float(simple.get("connect_latency"))
    server = obj(tk.get("server"), "test_keys.server")
    return PerformanceSummary(
        test_name="dash",
        failure=normalize_failure(tk.get("failure")),
        median_bitrate_kbps=opt_float(simple.get("median_bitrate")),
        connect_latency_ms=latency * 1000 if latency is not None else None,
        min_playout_delay_s=opt_float(simple.get("min_playout_delay")),
        server=opt_str(server.get("hostname")),
        has_data=bool(tk),
    )
