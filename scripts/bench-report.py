#!/usr/bin/env python3
"""Writes docs/benchmarks.md from what scripts/bench.sh collected.

records.tsv: pass, bench, scale, figure, value, unit, anchor, anchor value, target
runs.tsv:    pass, bench, scale, seconds, ok|failed, load average at start, command, commit, finished at

Every figure is reported as the median over passes with its spread (min-max),
beside its same-run anchor and the ratio; the ratio of each pass is taken
first, then the median of those, so a slow pass is compared with its own floor.
"""
import argparse
import os
import platform
import re
import statistics
import subprocess
from collections import OrderedDict

BENCHES = OrderedDict(
    [
        ("copy", ("PostgresClient COPY", "{rows} generated JSON rows into a jsonb column")),
        ("load", ("`ota-ingest load rates`", "{rows} generated rate records (NDJSON, seed 42)")),
        ("pull", ("`ota-ingest pull inventory` from the sandbox's cursor feed", "a sandbox of {pull} properties (the records it served are in the table)")),
        ("opentravel", ("`ota-ingest pull reservations` from the sandbox's OpenTravel queues", "one account of {opentravel} hotels, a simulated week of bookings queued (the reservations it served are in the table)")),
        ("transform", ("the SQL transforms and checks", "{rows} rate cells (8 properties x 25 rates x 5 occupancies x nights)")),
        ("reconcile", ("reconciliation's comparison", "a {rows}-key snapshot against as many fact cells, 1% different")),
        ("export", ("`ota-ingest export`", "{rows} current rate cells, CSV")),
        ("nightly", ("one `ota-ingest nightly`", "a sandbox of {nightly} properties x 365 days, WebHotelier")),
        ("serve", ("`ota-ingest serve` under wrk", "wrk -t2 -c64 for {serve} s, PostgreSQL with fsync on")),
        ("ari", ("OpenTravel availability and rate pushes through `ota-ingest serve`",
                 "a full flush of 750 nights for the hotels among the first {ari} that the seeds give rate plans (5), then {ari_deltas} one-field deltas over 7 nights, over 8 "
                 "keep-alive connections, PostgreSQL with fsync on; durable = answered and expanded into cells; the floor "
                 "is COPY of the same cells as typed rows (scripts/bench-ari.sh)")),
        ("ari-promotion", ("promotion of ARI delta cells beside the full-state path",
                           "10 hotels x 25 rate plans x {ari_nights} nights x 4 fields (scripts/bench-ari-promotion.sh)")),
        ("freshness", ("how soon a pushed booking or rate is in the facts",
                       "`serve` saturated with wrk (promotion off, then on), then half that rate offered for 60 s by "
                       "scripts/freshness-load.py over 50 properties while `ota-ingest watch` listens, PostgreSQL with "
                       "fsync on (scripts/bench-freshness.sh)")),
        ("report", ("`ota-ingest report`", "{nightly} properties x 365 days, 13 months of booking history; the floor is "
                    "psql running the feed queries the report reads")),
        ("citus", ("transform, reconcile and nightly on a three-node Citus cluster",
                   "the transform's {rows} cells, reconcile's {rows}-key snapshot and a nightly over {nightly} properties, "
                   "each run on the single server and then on a coordinator and two workers on the same machine "
                   "(scripts/bench-citus.sh; the anchor is the single server's figure, so the ratio is the cluster's "
                   "overhead)")),
    ]
)


def run(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def first_line(text):
    return text.splitlines()[0] if text else "not found"


def num(text):
    try:
        return float(text)
    except ValueError:
        return None


def fmt(value, unit=""):
    if value is None:
        return "-"
    if value == int(value) and abs(value) < 1000:
        text = f"{int(value)}"
    elif abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def spread(values, unit=""):
    if len(values) < 2:
        return "one run"
    return f"{fmt(min(values))}-{fmt(max(values), unit)} ({len(values)} runs)"


def verdict(target, value, ratio):
    match = re.fullmatch(r"(ratio|value)(<=|>=|<|>)([0-9.]+)", target or "")
    if not match:
        return "", "-"
    kind, op, limit = match.group(1), match.group(2), float(match.group(3))
    subject = ratio if kind == "ratio" else value
    shown = f"{kind} {op} {match.group(3)}{'x' if kind == 'ratio' else ''}"
    if subject is None:
        return shown, "not measured"
    ok = {"<=": subject <= limit, ">=": subject >= limit, "<": subject < limit, ">": subject > limit}[op]
    return shown, "met" if ok else "**missed**"


def scale_label(scale):
    value = float(scale)
    return f"{value:g}x"


FIELDS = ("pass", "bench", "scale", "figure", "value", "unit", "anchor", "anchor_value", "target")


class Figure:
    """One figure over the passes: its values, anchors and per-pass ratios, and their medians."""

    def __init__(self, rows):
        self.rows = rows
        self.unit = rows[0]["unit"]
        self.anchor_label = rows[0]["anchor"]
        self.target = rows[0]["target"]
        self.values = [v for v in (num(r["value"]) for r in rows) if v is not None]
        self.anchors = [v for v in (num(r["anchor_value"]) for r in rows) if v is not None]
        self.ratios = [num(r["value"]) / num(r["anchor_value"]) for r in rows
                       if num(r["value"]) is not None and num(r["anchor_value"])]
        self.median = statistics.median(self.values) if self.values else None
        self.anchor = statistics.median(self.anchors) if self.anchors else None
        self.ratio = statistics.median(self.ratios) if self.ratios else None


def read_state(state):
    """records grouped as (bench, scale) -> figure -> Figure, and the runs' rows."""
    grouped = OrderedDict()
    for line in open(os.path.join(state, "records.tsv")):
        fields = line.rstrip("\n").split("\t")
        if len(fields) == len(FIELDS):
            r = dict(zip(FIELDS, fields))
            grouped.setdefault((r["bench"], r["scale"]), OrderedDict()).setdefault(r["figure"], []).append(r)
    figures = OrderedDict((key, OrderedDict((name, Figure(rows)) for name, rows in by_name.items()))
                          for key, by_name in grouped.items())
    runs = [line.rstrip("\n").split("\t") for line in open(os.path.join(state, "runs.tsv")) if line.strip()]
    return figures, runs


def header(args, runs):
    pgbin = os.environ.get("PGBIN", "")
    tool = lambda name: os.path.join(pgbin, name) if pgbin else name
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    system = (first_line(open("/etc/os-release").read().split("PRETTY_NAME=")[1]).strip(chr(34))
              if os.path.exists("/etc/os-release") else platform.platform())
    loads = [num(r[5]) for r in runs if num(r[5]) is not None]
    total = sum(num(r[3]) or 0 for r in runs)
    commits = sorted({r[7] for r in runs if len(r) > 8})
    finished = sorted(r[8] for r in runs if len(r) > 8)
    out = [
        "# Benchmarks",
        "",
        f"Written by `{args.command}` (`scripts/bench.sh`, `scripts/bench-report.py`); do not edit by hand: the",
        "analysis, the profiles and the history of these figures are in [benchmark-notes.md](benchmark-notes.md).",
        "Every figure sits beside its anchor or floor, measured in the same pass on the same machine, and the",
        "ratio of the two; machines differ by up to 3x, so the ratios are what carry over. With several passes,",
        "each figure is the median of the passes and the spread is their range; each pass's ratio is taken",
        "against that pass's own floor before the median.",
        "",
        "## Machine and versions",
        "",
        f"- runs finished {finished[0] if finished else '?'} to {finished[-1] if finished else '?'}: "
        f"{len(runs)} benchmark runs, {total / 60:.1f} minutes in all; commit {', '.join(commits) or 'unknown'}",
        f"- machine: {os.cpu_count()} cores, {cpu}, {mem_kb / 1024 / 1024:.1f} GiB memory, {system}, "
        f"Linux {platform.release()}",
    ]
    if loads:
        out.append(f"- load average (1 min) when each benchmark started: {min(loads):.1f} to {max(loads):.1f}, "
                   f"median {statistics.median(loads):.1f}")
    out += [
        f"- {first_line(run('swift', '--version'))}",
        f"- {first_line(run(tool('postgres'), '-V'))} "
        "(the throwaway cluster in `.local/pg`: fsync and synchronous_commit off, as `make test` runs it; "
        "`serve` uses a cluster of its own with both on)",
        f"- {first_line(run(tool('pgbench'), '-V'))}; "
        f"{first_line(run('psql', '-V'))}; {first_line(run('wrk', '-v')) or 'wrk not installed'}; "
        f"libcurl {first_line(run('curl-config', '--version')).replace('libcurl ', '')}; Python {platform.python_version()}",
        f"- binaries: release builds in `{args.bin}`",
        "",
    ]
    return out


def summary(figures, base, passes):
    out = ["## Summary", "", f"Base scale {scale_label(base)}, {passes} pass(es). A target is judged on the median.", "",
           "| benchmark | figure | median | anchor (median) | ratio (spread) | target | |",
           "|---|---|---|---|---|---|---|"]
    for (bench, scale), by_name in figures.items():
        for name, f in by_name.items():
            if scale != base or not f.target:
                continue
            shown, result = verdict(f.target, f.median, f.ratio)
            ratio = "-" if f.ratio is None else f"{f.ratio:.2f}x" + (
                f" ({min(f.ratios):.2f}-{max(f.ratios):.2f})" if len(f.ratios) > 1 else "")
            anchor = fmt(f.anchor, f.unit) if f.anchor is not None else "-"
            out.append(f"| {bench} | {name} | {fmt(f.median, f.unit)} | {anchor} | {ratio} | {shown} | {result} |")
    return out + [""]


SCALE_WORDS = {
    "rows": lambda s: f"{int(1_000_000 * float(s)):,}",
    "pull": lambda s: f"{max(1, round(190 * float(s))):,}",
    "opentravel": lambda s: f"{max(1, round(100 * float(s)))}",
    "nightly": lambda s: f"{max(1, round(50 * float(s)))}",
    "serve": lambda s: f"{max(1, round(30 * float(s)))}",
    "ari": lambda s: f"{max(1, round(10 * float(s)))}",
    "ari_deltas": lambda s: f"{max(1, round(2000 * float(s))):,}",
    "ari_nights": lambda s: f"{max(7, int(1000 * float(s))):,}",
}


def sections(figures, runs):
    out = []
    for bench, (title, data) in BENCHES.items():
        keys = [k for k in figures if k[0] == bench]
        if not keys:
            continue
        out += [f"## {bench}: {title}", ""]
        for key in keys:
            words = {name: f(key[1]) for name, f in SCALE_WORDS.items()}
            out += [f"At {scale_label(key[1])}: {data.format(**words)}.", "",
                    "| figure | median | spread | anchor, same run | anchor median | ratio | ratio spread | target | |",
                    "|---|---|---|---|---|---|---|---|---|"]
            for name, f in figures[key].items():
                shown, result = verdict(f.target, f.median, f.ratio)
                out.append(
                    f"| {name} | {fmt(f.median, f.unit)} | {spread(f.values, f.unit)} | {f.anchor_label or '-'} | "
                    f"{fmt(f.anchor, f.unit) if f.anchor is not None else '-'} | "
                    f"{'-' if f.ratio is None else f'{f.ratio:.2f}x'} | "
                    f"{spread(f.ratios) if len(f.ratios) > 1 else '-'} | {shown or '-'} | {result if shown else ''} |")
            out.append("")
        mine = [r for r in runs if r[1] == bench]
        measured = sorted({f"{r[7]}, {r[8][:10]}" for r in mine if len(r) > 8})
        if measured:
            out.append("Measured at commit " + "; ".join(measured) + ".")
        out.append("Commands: " + "; ".join(f"`{c}`" for c in sorted({r[6] for r in mine})) + ".")
        failures = [r for r in mine if r[4] != "ok"]
        if failures:
            out.append(f"**{len(failures)} run(s) failed**; their output is in `.local/bench/`.")
        out.append("")
    return out


SCALED = (("pull", ["pull inventory, wall time"]),
          ("transform", ["first load, new cells into empty facts", "10% changed", "re-landed unchanged"]))


def scaling(figures, base):
    ten = f"{float(base) * 10:g}"
    out = [
        "## Scaling: 1x and 10x",
        "",
        "Each work's time at ten times the data divided by ten times its time at the base scale: 1.00 is",
        "linear, above 1 grows worse than linear. The anchors' own growth is beside it, because index",
        "maintenance and sorts make the floors themselves grow a little faster than linear; below 1, fixed",
        "costs (process start, migrations, the sandbox's start) still weigh at the small scale. One run at 10x.",
        "",
        f"| benchmark | work | {scale_label(base)} | {scale_label(ten)} | growth | anchor {scale_label(base)} | "
        f"anchor {scale_label(ten)} | anchor growth |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = 0
    for bench, names in SCALED:
        low, high = figures.get((bench, base)), figures.get((bench, ten))
        if not low or not high:
            continue
        # The pull's data is what the sandbox generates, so scale by the records actually pulled.
        size = 10.0
        if "records pulled" in low and "records pulled" in high:
            size = high["records pulled"].median / low["records pulled"].median
        for name in names:
            if name not in low or name not in high:
                continue
            lo, hi = low[name], high[name]
            growth = hi.median / (lo.median * size) if lo.median else None
            anchor_growth = hi.anchor / (lo.anchor * size) if lo.anchor and hi.anchor else None
            out.append(f"| {bench} | {name} | {fmt(lo.median, 's')} | {fmt(hi.median, 's')} | {fmt(growth)} | "
                       f"{fmt(lo.anchor, 's')} | {fmt(hi.anchor, 's')} | {fmt(anchor_growth)} |")
            rows += 1
    if not rows:
        out.append("| - | not run in this report | | | | | | |")
    return out + [""]


def main():
    parser = argparse.ArgumentParser()
    for option in ("--state", "--out", "--runs", "--base", "--command", "--bin"):
        parser.add_argument(option, required=True)
    args = parser.parse_args()
    figures, runs = read_state(args.state)
    out = header(args, runs) + summary(figures, args.base, args.runs) + sections(figures, runs) + scaling(figures, args.base)
    with open(args.out, "w") as f:
        f.write("\n".join(out))
    print(f"bench: wrote {args.out}")


if __name__ == "__main__":
    main()
