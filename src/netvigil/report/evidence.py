"""The report's evidence section: the tree head and the inclusion proof of every cited measurement.

The proofs go into the HTML as one machine-readable JSON block
(``<script type="application/json" id="netvigil-evidence">``), which browsers
neither run nor show and ``netvigil verify report.html`` reads back.  A cited
measurement that is not in the log (imported data, such as OONI's, is never
signed by a netvigil probe) is listed as such, so a reader sees what the
report can and cannot prove.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import orjson
from markupsafe import Markup

from netvigil.evidence.records import TreeHead
from netvigil.store.log import evidence_bundle

ELEMENT_ID = "netvigil-evidence"


@dataclass(frozen=True, slots=True)
class ReportEvidence:
    cited: int
    logged: int
    signed: int
    head: TreeHead | None
    log_key_id: str | None
    block: Markup  # the JSON block, safe to place in HTML as is

    @property
    def unlogged(self) -> int:
        return self.cited - self.logged


def gather_evidence(con: duckdb.DuckDBPyConnection, uids: Iterable[str]) -> ReportEvidence:
    wanted = list(dict.fromkeys(uids))
    bundle = evidence_bundle(con, wanted, bodies=False)
    if bundle is None:
        return ReportEvidence(len(wanted), 0, 0, None, None, Markup(""))
    text = orjson.dumps(bundle.to_dict()).decode("utf-8")
    # "</" cannot end the element early once written "<\/" (still the same JSON string).
    safe = text.replace("</", "<\\/")
    block = Markup(f'<script type="application/json" id="{ELEMENT_ID}">{safe}</script>')
    return ReportEvidence(cited=len(wanted), logged=len(bundle.entries),
                          signed=sum(c.entry.signed for c in bundle.entries), head=bundle.tree_head,
                          log_key_id=bundle.tree_head.log_key_id, block=block)
