"""ndt and dash -> verdicts (pure): never ``blocked``.

A speed test says how fast, not whether something is censored; its figures
(download/upload kbit/s, RTTs, retransmissions, DASH bitrate) go into the
verdict's evidence so throttling analysis can compare them across networks and
time.  A failed test is ``unknown``: speed-test servers fail for many reasons.
"""

from __future__ import annotations

from netvigil.analysis.nettest_rules import ruling
from netvigil.analysis.rules import Hop
from netvigil.analysis.step_chain import Judgement, no_data
from netvigil.model.performance import PerformanceSummary
from netvigil.model.verdict import Technique


def analyze_performance(s: PerformanceSummary) -> Judgement:
    if not s.has_data:
        return no_data(f"{s.test_name} recorded no test keys")
    at = Hop(s.server or "", 0)
    if s.failure is None:
        v = ruling("performance.measured").verdict(Technique.OK, at=at, test=s.test_name, **s.figures())
    else:
        v = ruling("performance.failed").verdict(Technique.UNKNOWN, at=at, test=s.test_name, failure=s.failure,
                                                 **s.figures())
    return Judgement((v,), v)
