"""Render a report to HTML (Jinja2, autoescaped) and PDF (WeasyPrint), and write both."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

import netvigil
from netvigil.api.database import Database
from netvigil.api.incidents import parse_iso
from netvigil.report import svg
from netvigil.report.data import CITED_PER_GROUP, ReportData, gather
from netvigil.report.evidence import ReportEvidence, gather_evidence
from netvigil.report.summary import paragraphs

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
_COLORS = {"ok": "#2e7d32", "anomaly": "#f9a825", "confirmed": "#c62828", "failure": "#9e9e9e"}


def write_report(db: Database, cc: str, start: datetime, end: datetime, out_dir: Path, *, pdf: bool = True,
                 legal_context: bool = False) -> list[Path]:
    """Write ``report-CC-FROM-TO.html`` (and ``.pdf``) into ``out_dir``; returns the paths written."""
    with db.read() as con:
        data = gather(con, cc, start, end, legal_context=legal_context)
        evidence = gather_evidence(con, cited_uids(data))
    html = render_html(data, evidence)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"report-{cc}-{start:%Y%m%d}-{end:%Y%m%d}"
    written = [out_dir / f"{stem}.html"]
    written[0].write_text(html, encoding="utf-8")
    if pdf:
        from weasyprint import HTML  # imported late: it loads pango, which only reports need

        written.append(out_dir / f"{stem}.pdf")
        HTML(string=html, base_url=str(out_dir)).write_pdf(written[1])
    return written


def render_html(d: ReportData, evidence: ReportEvidence | None = None) -> str:
    return _env.get_template("report.html").render(
        d=d, summary=paragraphs(d), charts=_charts(d), version=netvigil.__version__,
        last_day=d.end - timedelta(days=1), per_group=CITED_PER_GROUP, evidence=evidence)


def cited_uids(d: ReportData) -> list[str]:
    """Every measurement the report names: the citation table and each blocked site's example."""
    return [c["uid"] for c in d.cited] + [b["example_uid"] for b in d.blocked if b.get("example_uid")]


def _charts(d: ReportData) -> dict[str, Markup]:
    """Our own SVG markup (labels escaped inside :mod:`svg`), marked safe for the template."""
    charts = {}
    if d.daily:
        stacks = [svg.Stack("ok", _COLORS["ok"], [r["ok_count"] for r in d.daily]),
                  svg.Stack("anomaly", _COLORS["anomaly"], [r["anomaly_count"] - r["confirmed_count"] for r in d.daily]),
                  svg.Stack("confirmed", _COLORS["confirmed"], [r["confirmed_count"] for r in d.daily]),
                  svg.Stack("failure", _COLORS["failure"], [r["failure_count"] for r in d.daily])]
        charts["daily"] = Markup(svg.stacked_bars([r["measurement_start_day"] for r in d.daily], stacks,
                                                  title="Measurements per day by result"))
    if d.signals:
        series = [svg.Line(f"{s['entity']} {s['source']}", [(parse_iso(t), v) for t, v, _ in s["points"]])
                  for s in d.signals]
        shaded = [(parse_iso(i["start"]), parse_iso(i["end"]) if i["end"] else d.end) for i in d.incidents]
        charts["signals"] = Markup(svg.lines(series, title="Connectivity signals (shaded: detected incidents)",
                                             start=d.start, end=d.end, shaded=shaded))
    return charts
