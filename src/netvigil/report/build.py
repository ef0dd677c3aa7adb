"""Render a report to HTML (Jinja2, autoescaped) and PDF (WeasyPrint), and write both."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

import netvigil
from netvigil.analysis.rules import BY_ID, RULES_VERSION
from netvigil.report import svg, words
from netvigil.report.data import CITED_PER_GROUP, INCIDENT_MARGIN, ReportData, gather
from netvigil.report.evidence import ReportEvidence, gather_evidence
from netvigil.report.summary import paragraphs
from netvigil.store.database import Database
from netvigil.store.incidents import parse_iso

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
_COLORS = {"ok": "#2e7d32", "anomaly": "#f9a825", "confirmed": "#c62828", "failure": "#9e9e9e"}


def write_report(db: Database, cc: str, start: datetime, end: datetime, out_dir: Path, *, pdf: bool = True,
                 legal_context: bool = True) -> list[Path]:
    """Write ``report-CC-FROM-TO.html`` (and ``.pdf``) into ``out_dir``; returns the paths written."""
    with db.read() as con:
        data = gather(con, cc, start, end, legal_context=legal_context)
        evidence = gather_evidence(con, cited_uids(data))
    return write_report_data(data, out_dir, pdf=pdf, evidence=evidence)


def write_report_data(data: ReportData, out_dir: Path, *, pdf: bool = True,
                      evidence: ReportEvidence | None = None) -> list[Path]:
    """Write the report of facts already gathered (from the file, or through a server's API)."""
    html = render_html(data, evidence)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"report-{data.cc}-{data.start:%Y%m%d}-{data.end:%Y%m%d}"
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
        last_day=d.end - timedelta(days=1), per_group=CITED_PER_GROUP, words=words,
        technique_charts=_technique_charts(d), incident_charts=_incident_charts(d),
        rules=_rules(d), rules_version=RULES_VERSION, by_layer=_networks_by_layer(d), evidence=evidence)


def _days(d: ReportData) -> list[str]:
    count = max(1, (d.end - d.start).days)
    return [(d.start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(count)]


def _technique_charts(d: ReportData) -> list[tuple[str, Markup]]:
    """One timeline per technique: blocked measurements per day of the period."""
    days = _days(d)
    index = {day: i for i, day in enumerate(days)}
    per: dict[str, list[int]] = {}
    for row in d.technique_days:
        if row["day"] in index:
            per.setdefault(row["technique"], [0] * len(days))[index[row["day"]]] += row["blocked"]
    order = sorted(per, key=lambda t: -sum(per[t]))
    return [(t, Markup(svg.stacked_bars(days, [svg.Stack("blocked", _COLORS["confirmed"], per[t])],
                                        title=f"{t}: blocked measurements per day"))) for t in order]


def _incident_charts(d: ReportData) -> list[tuple[dict[str, object], Markup]]:
    """One timeline per incident: its signals from before the onset to after the end, the incident shaded."""
    charts = []
    for item, signals in zip(d.incidents, d.incident_signals, strict=True):
        start = parse_iso(str(item["start"]))
        end = parse_iso(str(item["end"])) if item["end"] else start + INCIDENT_MARGIN
        series = [svg.Line(f"{s['entity']} {s['source']}", [(parse_iso(t), v) for t, v, _ in s["points"]])
                  for s in signals]
        charts.append((item, Markup(svg.lines(series, title=f"Incident in {item['entity']} from {item['start']}",
                                              start=start - INCIDENT_MARGIN, end=end + INCIDENT_MARGIN,
                                              shaded=[(start, end)]))))
    return charts


def _rules(d: ReportData) -> list[dict[str, object]]:
    """The rules behind the verdicts, with their meaning from the rule table."""
    out = []
    for used in d.rules:
        rule_id = str(used["rule"]).split("@")[0]
        rule = BY_ID.get(rule_id)
        out.append({**used, "meaning": rule.meaning if rule else "(not in this version's rule table)",
                    "confidence": words.certainty(rule.confidence) if rule else "—"})
    return out


def _networks_by_layer(d: ReportData) -> list[tuple[str, list[str]]]:
    """For each layer, the networks seen blocking at it ("which networks block by DNS?")."""
    return [(layer, [n["probe_asn"] for n in d.network_layers if layer in n["layers"]])
            for layer in ("dns", "tcp", "tls", "http")]


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
