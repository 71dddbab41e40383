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
        ("transform", ("the SQL transforms and checks", "{rows} rate cells (8 properties x 25 rates x 5 occupancies x nights)")),
        ("reconcile", ("reconciliation's comparison", "a {rows}-key snapshot against as many fact cells, 1% different")),
        ("export", ("`ota-ingest export`", "{rows} current rate cells, CSV")),
        ("nightly", ("one `ota-ingest nightly`", "a sandbox of {nightly} properties x 365 days, WebHotelier")),
        ("serve", ("`ota-ingest serve` under wrk", "wrk -t2 -c64 for {serve} s, PostgreSQL with fsync on")),
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


def main():
    parser = argparse.ArgumentParser()
    for option in ("--state", "--out", "--runs", "--base", "--command", "--bin"):
        parser.add_argument(option, required=True)
    args = parser.parse_args()
    base = args.base

    records = []
    for line in open(os.path.join(args.state, "records.tsv")):
        fields = line.rstrip("\n").split("\t")
        if len(fields) == 9:
            records.append(dict(zip(("pass", "bench", "scale", "figure", "value", "unit", "anchor", "anchor_value", "target"), fields)))
    runs = [line.rstrip("\n").split("\t") for line in open(os.path.join(args.state, "runs.tsv")) if line.strip()]

    # (bench, scale) -> figure -> list of per-pass records
    grouped = OrderedDict()
    for r in records:
        grouped.setdefault((r["bench"], r["scale"]), OrderedDict()).setdefault(r["figure"], []).append(r)

    def figure_summary(rows):
        values = [v for v in (num(r["value"]) for r in rows) if v is not None]
        anchors = [v for v in (num(r["anchor_value"]) for r in rows) if v is not None]
        ratios = [num(r["value"]) / num(r["anchor_value"]) for r in rows if num(r["value"]) is not None and num(r["anchor_value"])]
        median = statistics.median(values) if values else None
        ratio = statistics.median(ratios) if ratios else None
        anchor = statistics.median(anchors) if anchors else None
        return values, median, anchors, anchor, ratios, ratio

    pgbin = os.environ.get("PGBIN", "")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    loads = [num(r[5]) for r in runs if num(r[5]) is not None]
    total = sum(num(r[3]) or 0 for r in runs)
    commits = sorted({r[7] for r in runs if len(r) > 8})
    finished = sorted(r[8] for r in runs if len(r) > 8)
    scale_words = {
        "rows": lambda s: f"{int(1_000_000 * float(s)):,}",
        "pull": lambda s: f"{max(1, round(190 * float(s))):,}",
        "nightly": lambda s: f"{max(1, round(50 * float(s)))}",
        "serve": lambda s: f"{max(1, round(30 * float(s)))}",
    }

    out = []
    w = out.append
    w("# Benchmarks")
    w("")
    w(f"Written by `{args.command}` (`scripts/bench.sh`, `scripts/bench-report.py`); do not edit by hand: the")
    w("analysis, the profiles and the history of these figures are in [benchmark-notes.md](benchmark-notes.md).")
    w("Every figure sits beside its anchor or floor, measured in the same pass on the same machine, and the")
    w("ratio of the two; machines differ by up to 3x, so the ratios are what carry over. With several passes,")
    w("each figure is the median of the passes and the spread is their range; each pass's ratio is taken")
    w("against that pass's own floor before the median.")
    w("")
    w("## Machine and versions")
    w("")
    w(f"- runs finished {finished[0] if finished else '?'} to {finished[-1] if finished else '?'}: "
      f"{len(runs)} benchmark runs, {total / 60:.1f} minutes in all; commit {', '.join(commits) or 'unknown'}")
    w(f"- machine: {os.cpu_count()} cores, {cpu}, {mem_kb / 1024 / 1024:.1f} GiB memory, "
      f"{first_line(open('/etc/os-release').read().split('PRETTY_NAME=')[1]).strip(chr(34)) if os.path.exists('/etc/os-release') else platform.platform()}, "
      f"Linux {platform.release()}")
    if loads:
        w(f"- load average (1 min) when each benchmark started: {min(loads):.1f} to {max(loads):.1f}, median {statistics.median(loads):.1f}")
    w(f"- {first_line(run('swift', '--version'))}")
    w(f"- {first_line(run(os.path.join(pgbin, 'postgres'), '-V') if pgbin else run('postgres', '-V'))} "
      "(the throwaway cluster in `.local/pg`: fsync and synchronous_commit off, as `make test` runs it; "
      "`serve` uses a cluster of its own with both on)")
    w(f"- {first_line(run(os.path.join(pgbin, 'pgbench'), '-V') if pgbin else run('pgbench', '-V'))}; "
      f"{first_line(run('psql', '-V'))}; {first_line(run('wrk', '-v')) or 'wrk not installed'}; "
      f"libcurl {first_line(run('curl-config', '--version')).replace('libcurl ', '')}; Python {platform.python_version()}")
    w(f"- binaries: release builds in `{args.bin}`")
    w("")
    w("## Summary")
    w("")
    w(f"Base scale {scale_label(base)}, {args.runs} pass(es). A target is judged on the median.")
    w("")
    w("| benchmark | figure | median | anchor (median) | ratio (spread) | target | |")
    w("|---|---|---|---|---|---|---|")
    for (bench, scale), figures in grouped.items():
        if scale != base:
            continue
        for figure, rows in figures.items():
            if not rows[0]["target"]:
                continue
            values, median, _, anchor, ratios, ratio = figure_summary(rows)
            shown, result = verdict(rows[0]["target"], median, ratio)
            ratio_text = "-" if ratio is None else f"{ratio:.2f}x" + (f" ({min(ratios):.2f}-{max(ratios):.2f})" if len(ratios) > 1 else "")
            w(f"| {bench} | {figure} | {fmt(median, rows[0]['unit'])} | {fmt(anchor, rows[0]['unit']) if anchor is not None else '-'} | "
              f"{ratio_text} | {shown} | {result} |")
    w("")

    for bench, (title, data) in BENCHES.items():
        keys = [k for k in grouped if k[0] == bench]
        if not keys:
            continue
        w(f"## {bench}: {title}")
        w("")
        for key in keys:
            scale = key[1]
            words = {name: f(scale) for name, f in scale_words.items()}
            w(f"At {scale_label(scale)}: {data.format(**words)}.")
            w("")
            w("| figure | median | spread | anchor, same run | anchor median | ratio | ratio spread | target | |")
            w("|---|---|---|---|---|---|---|---|---|")
            for figure, rows in grouped[key].items():
                values, median, anchors, anchor, ratios, ratio = figure_summary(rows)
                unit = rows[0]["unit"]
                shown, result = verdict(rows[0]["target"], median, ratio)
                w(f"| {figure} | {fmt(median, unit)} | {spread(values, unit)} | {rows[0]['anchor'] or '-'} | "
                  f"{fmt(anchor, unit) if anchor is not None else '-'} | {'-' if ratio is None else f'{ratio:.2f}x'} | "
                  f"{spread(ratios) if len(ratios) > 1 else '-'} | {shown or '-'} | {result if shown else ''} |")
            w("")
        commands = sorted({r[6] for r in runs if r[1] == bench})
        measured = sorted({f"{r[7]}, {r[8][:10]}" for r in runs if r[1] == bench and len(r) > 8})
        if measured:
            w("Measured at commit " + "; ".join(measured) + ".")
        failures = [r for r in runs if r[1] == bench and r[4] != "ok"]
        w("Commands: " + "; ".join(f"`{c}`" for c in commands) + ".")
        if failures:
            w(f"**{len(failures)} run(s) failed**; their output is in `.local/bench/`.")
        w("")

    w("## Scaling: 1x and 10x")
    w("")
    w("Each work's time at ten times the data divided by ten times its time at the base scale: 1.00 is")
    w("linear, above 1 grows worse than linear. The anchors' own growth is beside it, because index")
    w("maintenance and sorts make the floors themselves grow a little faster than linear; below 1, fixed")
    w("costs (process start, migrations, the sandbox's start) still weigh at the small scale. One run at 10x.")
    w("")
    ten = f"{float(base) * 10:g}"
    w(f"| benchmark | work | {scale_label(base)} | {scale_label(ten)} | growth | anchor {scale_label(base)} | anchor {scale_label(ten)} | anchor growth |")
    w("|---|---|---|---|---|---|---|---|")
    scaled_any = False
    for bench, figures_of in (("pull", ["pull inventory, wall time"]),
                              ("transform", ["first load, new cells into empty facts", "10% changed", "re-landed unchanged"])):
        low, high = grouped.get((bench, base)), grouped.get((bench, ten))
        if not low or not high:
            continue
        # The pull's data is what the sandbox generates, so scale by the records actually pulled.
        size_ratio = 10.0
        if bench == "pull" and "records pulled" in low and "records pulled" in high:
            size_ratio = figure_summary(high["records pulled"])[1] / figure_summary(low["records pulled"])[1]
        for figure in figures_of:
            if figure not in low or figure not in high:
                continue
            _, lo, _, lo_anchor, _, _ = figure_summary(low[figure])
            _, hi, _, hi_anchor, _, _ = figure_summary(high[figure])
            growth = hi / (lo * size_ratio) if lo else None
            anchor_growth = hi_anchor / (lo_anchor * size_ratio) if lo_anchor and hi_anchor else None
            w(f"| {bench} | {figure} | {fmt(lo, 's')} | {fmt(hi, 's')} | {fmt(growth)} | {fmt(lo_anchor, 's')} | "
              f"{fmt(hi_anchor, 's')} | {fmt(anchor_growth)} |")
            scaled_any = True
    if not scaled_any:
        w("| - | not run in this report | | | | | | |")
    w("")
    with open(args.out, "w") as f:
        f.write("\n".join(out))
    print(f"bench: wrote {args.out}")


if __name__ == "__main__":
    main()
