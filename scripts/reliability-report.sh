#!/usr/bin/env bash
# Turns the JSON lines the torture scenarios append (OTA_TORTURE_REPORT) into the
# table `make torture` prints and docs/reliability.md keeps.
#
#   scripts/reliability-report.sh REPORT.jsonl OUT.md "COMMAND" ["NOTE"]
#
# NOTE, when given, is a sentence printed under the table (e.g. which scenarios were skipped).
set -euo pipefail
REPORT=${1:?usage: scripts/reliability-report.sh REPORT.jsonl OUT.md COMMAND}
OUT=${2:?usage: scripts/reliability-report.sh REPORT.jsonl OUT.md COMMAND}
COMMAND=${3:-make torture}
NOTE=${4:-}
[ -s "$REPORT" ] || { echo "reliability-report: $REPORT is empty; fix: run the torture scenarios first"; exit 1; }
python3 - "$REPORT" "$OUT" "$COMMAND" "$NOTE" <<'PY'
import json, os, platform, subprocess, sys, datetime
report, out, command, note = sys.argv[1:5]
rows = {}
for line in open(report):
    r = json.loads(line)
    row = rows.setdefault(r["scenario"], {"trials": 0, "violations": 0, "notes": []})
    row["trials"] += r["trials"]
    row["violations"] += r["violations"]
    if r.get("note") and r["note"] not in row["notes"]:
        row["notes"].append(r["note"])
def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()
mem = int(open("/proc/meminfo").readline().split()[1]) // 1024 // 1024
pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
width = max(len(s) for s in rows) + 2
table = [f"{'scenario':<{width}} trials  violations", "-" * (width + 20)]
for name, row in rows.items():
    table.append(f"{name:<{width}} {row['trials']:>6}  {row['violations']:>10}")
total = sum(r["violations"] for r in rows.values())
print("\n".join(table))
print(f"total violations: {total}")
if note:
    print(note)
with open(out, "w") as f:
    f.write("# Reliability: the invariants under faults\n\n")
    f.write(f"Written by `{command}` on {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC: {os.cpu_count()} cores, "
            f"{mem} GiB, {cpu()}; {pg}.\n")
    f.write("Every scenario counts its violations of the invariants "
            "(nothing landed twice, nothing lost, nothing acknowledged that is not stored); every count must be zero, "
            "and a violation is a bug to fix, not a number to report. `make test` runs the same scenarios with a few trials each.\n\n")
    f.write("| scenario | trials | violations | what was compared |\n|---|---:|---:|---|\n")
    for name, row in rows.items():
        f.write(f"| {name} | {row['trials']} | {row['violations']} | {'; '.join(row['notes'])} |\n")
    f.write(f"\nTotal violations: **{total}**.\n")
    if note:
        f.write(f"\n{note}\n")
PY
