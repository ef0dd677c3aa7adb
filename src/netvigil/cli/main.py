"""The ``netvigil`` command line: argument parsing and printing only.

Logic lives in the packages below (store, analysis, ...); each command
here reads its arguments, calls one of them, and prints the result for a person
(stdout) or for a program (``verdicts``: JSON lines, a stable interface).
Exit status: 0 on success, even when some records were quarantined; 1 when no
measurement could be read at all, or the store or a uid could not be found;
2 for usage errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from netvigil.analysis.fingerprints import FingerprintDB
from netvigil.cli.detect import add_detect_parsers, add_eval_outages_parser
from netvigil.cli.engine import add_engine_options, add_fetch_parser, run_engine, wants_engine
from netvigil.cli.probe import add_helper_parser, add_probe_parser
from netvigil.cli.serve import add_report_parser, add_serve_parser
from netvigil.cli.testbed import add_testbed_parser
from netvigil.cli.verify import add_evidence_parsers
from netvigil.engine import pipeline
from netvigil.engine.postcan import iter_inputs
from netvigil.evaluation.ooni_qa import QA_SUBDIR, evaluate
from netvigil.store.db import STATS_OUTCOMES, StoreError, open_store
from netvigil.store.reference_data import load_default_fingerprints, shared_data_dir
from netvigil.store.sources import Quarantined, encode_json, iter_records

TOP_REASONS = 10
STATS_ROWS = 20
_out = Console(highlight=False, markup=False, emoji=False, soft_wrap=True)  # data is printed verbatim
_err = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run = getattr(args, "run", None) or args.func  # feature packages register `func`
    try:
        return int(run(args))
    except StoreError as exc:
        _err.print(f"netvigil: {exc}")
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="netvigil", description="Censorship measurement analysis.")
    _global_options(parser, default=None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        _global_options(sub, default=argparse.SUPPRESS)  # accepted after the command name too
        sub.set_defaults(run=run)
        return sub

    ingest = command("ingest", _ingest, "Read measurement files, folders or globs into the store.")
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    add_engine_options(ingest)
    analyze = command("analyze", _analyze, "Re-run the analysis over every stored measurement "
                      "(or, with --engine, over input files into a Parquet dataset).")
    analyze.add_argument("paths", nargs="*", metavar="PATH")
    add_engine_options(analyze)
    add_fetch_parser(commands)
    show = command("show", _show, "One measurement's verdicts, evidence and envelope.")
    show.add_argument("uid")
    show.add_argument("--json", action="store_true", help="print the record as JSON")
    command("stats", _stats, "Measurements by country, ASN and technique.")
    quarantine = command("quarantine", _quarantine, "Records that could not be used, and why.")
    quarantine.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    export = command("export", _export, "Write the store out: every table as Parquet, or measurements as JSONL.")
    formats = export.add_mutually_exclusive_group(required=True)
    formats.add_argument("--parquet", metavar="DIR", type=Path, help="one Parquet file per table in DIR")
    formats.add_argument("--jsonl", metavar="FILE", type=Path, help="every measurement as one JSON line")
    verdicts = command("verdicts", _verdicts, "Analyse files without storing them: one JSON line each.")
    verdicts.add_argument("paths", nargs="+", metavar="PATH")
    verdicts.add_argument("--format", choices=("jsonl",), default="jsonl")
    evaluate = command("eval", _no_subcommand, "Evaluate verdicts against labelled ground truth.")
    targets = evaluate.add_subparsers(dest="target", metavar="TARGET")
    scenarios = targets.add_parser("scenarios", help="OONI's 50 labelled web_connectivity QA scenarios.")
    scenarios.add_argument("--dir", type=Path, default=None,
                           help="folder of scenario folders (default: the QA corpus in the shared data)")
    scenarios.set_defaults(run=_eval_scenarios)
    targets.add_parser("fingerprints", help="False-positive signatures against every blockpage fingerprint's "
                       "example: overlaps and who decides them.").set_defaults(run=_eval_fingerprints)
    add_eval_outages_parser(targets)
    add_detect_parsers(commands, with_eval=False)
    add_probe_parser(commands)
    add_helper_parser(commands)
    add_testbed_parser(commands)
    add_serve_parser(commands)
    add_report_parser(commands)
    add_evidence_parsers(commands)
    return parser


def _global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--db", type=Path, default=default,
                        help="database file (default $NETVIGIL_DB, else netvigil/netvigil.duckdb "
                             "in $XDG_DATA_HOME or ~/.local/share)")
    parser.add_argument("--fingerprints", type=Path, default=default, metavar="DIR",
                        help="shared data folder holding the fingerprint files in their upstream layout "
                             "(default $NETVIGIL_SHARED_DATA or ../shared/data)")


def _fingerprints(args: argparse.Namespace) -> FingerprintDB:
    return load_default_fingerprints(args.fingerprints)


# --- commands ---------------------------------------------------------------------------------


def _ingest(args: argparse.Namespace) -> int:
    if wants_engine(args):
        return run_engine(args, with_raw=True)
    fingerprints = _fingerprints(args)
    with open_store(args.db) as store, _progress("ingest") as advance:
        summary = pipeline.ingest(store, iter_inputs(args.paths), fingerprints, progress=advance)  # postcans too
    _out.print(f"read {summary.read:,}  stored {summary.stored:,}  quarantined {summary.quarantined:,}  "
               f"duplicates {summary.duplicates:,}")
    reasons = sorted(summary.by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    if reasons:
        _out.print("top quarantine reasons:")
        for reason, count in reasons[:TOP_REASONS]:
            _out.print(f"  {count:>9,}  {reason}")
    return _nothing_read(summary.stored + summary.duplicates)


def _analyze(args: argparse.Namespace) -> int:
    if wants_engine(args) or args.paths:
        return run_engine(args, with_raw=False)
    fingerprints = _fingerprints(args)
    with open_store(args.db) as store, _progress("analyze") as advance:
        analysed = pipeline.reanalyze(store, fingerprints, progress=advance)
        total = store.counts()["measurements"]
    _out.print(f"re-analysed {analysed:,} of {total:,} measurements"
               + (f"; {total - analysed:,} failed (see `netvigil quarantine`)" if total > analysed else ""))
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_store(args.db, read_only=True) as store:
        try:
            record = store.show(args.uid)
        except KeyError:
            _err.print(f"netvigil: no stored measurement with uid {args.uid}")
            return 1
    if args.json:
        sys.stdout.buffer.write(encode_json(record) + b"\n")
    else:
        _print_record(record)
    return 0


def _stats(args: argparse.Namespace) -> int:
    with open_store(args.db, read_only=True) as store:
        stats = store.stats()
    _out.print(f"{stats['measurements']:,} measurements, {stats['quarantined']:,} quarantined records")
    outcomes = ", ".join(f"{outcome} {count:,}" for outcome, count in stats["by_outcome"].items())
    _out.print(f"summary outcomes: {outcomes or 'none'}")
    for key, title in (("by_country", "country"), ("by_asn", "ASN"), ("by_technique", "technique"),
                       ("by_test", "test")):
        _out.print(_stats_table(title, stats[key]))
    return 0


def _quarantine(args: argparse.Namespace) -> int:
    with open_store(args.db, read_only=True) as store:
        entries = store.quarantine_entries(limit=args.limit)
    table = Table("source", "position", "reason", title=f"quarantine (latest {len(entries)})")
    for entry in entries:
        table.add_row(entry["source"], entry["position"], entry["reason"])
    _out.print(table)
    return 0


def _export(args: argparse.Namespace) -> int:
    if args.jsonl is not None:
        try:  # before the work: a bad path must not cost a whole export
            args.jsonl.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _err.print(f"netvigil export: cannot write {args.jsonl}: {exc}")
            return 2
        with open_store(args.db, read_only=True) as store:
            count = store.export_jsonl(args.jsonl)
        _out.print(f"{args.jsonl}: {count:,} measurements")
        return 0
    with open_store(args.db, read_only=True) as store:
        written = store.export_parquet(args.parquet)
    for table, rows in written.items():
        _out.print(f"{args.parquet / (table + '.parquet')}: {rows:,} rows")
    return 0


def _verdicts(args: argparse.Namespace) -> int:
    fingerprints = _fingerprints(args)
    out, emitted = sys.stdout.buffer, 0
    for line in pipeline.verdict_lines(iter_records(args.paths), fingerprints):
        if isinstance(line, Quarantined):
            sys.stderr.buffer.write(encode_json({"quarantined": True, "source": line.source,
                                                 "position": line.position, "reason": line.reason}) + b"\n")
        else:
            out.write(line + b"\n")
            emitted += 1
    out.flush()
    return _nothing_read(emitted)


def _no_subcommand(args: argparse.Namespace) -> int:
    _err.print("netvigil eval: name what to evaluate, e.g. `netvigil eval scenarios`")
    return 2


def _eval_scenarios(args: argparse.Namespace) -> int:
    folder = args.dir or shared_data_dir() / QA_SUBDIR
    results = evaluate(folder, _fingerprints(args))
    if not results:
        _err.print(f"netvigil: no labelled scenarios found under {folder}")
        return 1
    _out.print(f"{'scenario':<58} {'expected':<14} {'netvigil':<16} {'outcome':<8} hop  "
               f"{'rule':<40} OONI blocking")
    for r in results:
        got = r.got.value + ("" if r.agrees else " ✗")
        _out.print(f"{r.name:<58} {r.expected.value:<14} {got:<16} {r.outcome.value:<8} {r.depth:<4} "
                   f"{r.rule:<40} {r.ooni_blocking}")
    agree = sum(r.agrees for r in results)
    false_alarms = [r.name for r in results if r.false_censorship]
    _out.print(f"agreement: {agree} of {len(results)} scenarios; censorship reported on "
               f"{len(false_alarms)} scenario(s) without interference" + (f": {', '.join(false_alarms)}" if false_alarms else ""))
    return 0


# --- printing helpers -------------------------------------------------------------------------


def _nothing_read(measurements: int) -> int:
    if measurements == 0:
        _err.print("netvigil: no measurement could be read")
        return 1
    return 0


def _sentence(verdict: dict[str, Any]) -> str:
    """``BLOCKED — dns.bogon (confidence 0.95, rule ...): bogon 10.10.34.35; ...``."""
    evidence = "; ".join(f"{key} {_value(value)}" for key, value in verdict["evidence"].items())
    head = (f"{verdict['outcome'].upper()} — {verdict['technique']} "
            f"(confidence {verdict['confidence']:.2f}, rule {verdict['rule']})")
    return f"{head}: {evidence}" if evidence else head


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "[]"
    if isinstance(value, dict):
        return encode_json(value).decode()
    return str(value)


def _print_record(record: dict[str, Any]) -> None:
    """The summary sentence first, then each layer verdict with its evidence, then the envelope."""
    summary = record["summary"]
    _out.print(_sentence(summary) if summary else "NOT ANALYSED — run `netvigil analyze`")
    _out.print(f"{record['uid']}  {record['test_name']}  {record['input'] or '-'}  "
               f"{record['probe_cc']} {record['probe_asn']}  {record['measurement_start_time']}")
    _out.print("\nlayer verdicts:" if record["verdicts"] else "\nno layer verdicts")
    for verdict in record["verdicts"]:
        where = f"{verdict['hostname']} (hop {verdict['depth']})" if verdict["hostname"] else ""
        _out.print(f"  {verdict['layer']:<5} {verdict['outcome'].upper():<8} {verdict['technique']:<16} "
                   f"{verdict['confidence']:.2f}  {verdict['rule']}  {where}")
        for key, value in verdict["evidence"].items():
            _out.print(f"        {key}: {_value(value)}")
    for title in ("envelope", "stored"):
        _out.print(f"\n{title}:")
        for key, value in record[title].items():
            _out.print(f"  {key}: {_value(value)}")


def _stats_table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title, "measurements", *STATS_OUTCOMES, title=f"by {title} (top {STATS_ROWS})")
    for row in rows[:STATS_ROWS]:
        table.add_row(row["key"], f"{row['measurements']:,}", *(f"{row[o]:,}" for o in STATS_OUTCOMES))
    return table


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} records/s")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int], None]]:
    """A records-per-second bar on stderr; yields the callback the store reports batches to."""
    with Progress(SpinnerColumn(), TextColumn(label), TextColumn("{task.completed:,.0f} records"),
                  _RateColumn(), TimeElapsedColumn(), console=_err, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.advance(task, n)


def _eval_fingerprints(args: argparse.Namespace) -> int:
    from netvigil.analysis.fingerprint_overlaps import find_overlaps, overlap_report

    db = _fingerprints(args)
    overlaps, checked = find_overlaps(db, db.fingerprints)
    print(overlap_report(overlaps, checked))
    return 1 if any(o.specific and not o.blockpage_decides for o in overlaps) else 0
