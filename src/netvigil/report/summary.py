"""The plain-language summary at the top of a report: short sentences a journalist can quote.

Every number comes from :class:`~netvigil.report.data.ReportData`; nothing here
queries the store.  Wording is cautious on purpose: "blocked" only ever means
the network interfered while the control reached the site.
"""

from __future__ import annotations

from datetime import timedelta

from netvigil.report.data import ReportData


def paragraphs(d: ReportData) -> list[str]:
    period = f"{d.start:%d %B %Y} to {d.end - timedelta(days=1):%d %B %Y}"
    t = d.totals
    if not t["measurement_count"]:
        return [f"netvigil holds no measurement from {d.name} for {period}.", *_incident_sentences(d)]
    share = t["anomaly_count"] / t["measurement_count"]
    text = [(
        f"From {period}, netvigil holds {t['measurement_count']:,} measurements from {d.name} "
        f"on {len(d.networks):,} network(s). In {t['anomaly_count']:,} of them ({share:.0%}) the network "
        f"interfered with the connection while an unfiltered control reached the site; "
        f"{t['confirmed_count']:,} of these were confirmed by a known blockpage or equivalent certainty. "
        f"{t['failure_count']:,} could not be judged or the site was down for everyone, and are not counted "
        "as censorship."
    )]
    if d.blocked:
        domains = {b["domain"] for b in d.blocked}  # None: an input without a host, still one site
        top = d.techniques[0]
        text.append(f"{len(domains):,} distinct site(s) were blocked. The most common technique was "
                    f"{top['technique']} ({top['anomaly_count']:,} measurements).")
    return text + _incident_sentences(d)


def _incident_sentences(d: ReportData) -> list[str]:
    if not d.incidents:
        return ["No outage or blocking incident was detected for this period."]
    spans = "; ".join(f"{i['level']} from {i['start']} to {i['end'] or 'the end of the data'}" for i in d.incidents)
    return [f"{len(d.incidents)} incident(s) were detected in connectivity signals: {spans}."]
