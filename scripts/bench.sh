#!/usr/bin/env bash
# `make bench`: every benchmark, several passes, then docs/benchmarks.md.
#
#   scripts/bench.sh BIN_DIR
#
#   RUNS=N     passes of every benchmark (3); the report gives each figure's
#              median and spread over them
#   QUICK=1    one pass at a tenth of the data (the scaling runs at 1x)
#   ONLY="pull transform"   just these benchmarks; the report keeps the other
#              benchmarks' figures from the last run (.local/bench), each
#              section naming the commit it measured
#   BENCH_OUT  where the report goes (docs/benchmarks.md)
#   TEN_AFTER=N  the 10x runs follow pass N instead of the last, so a run that
#              has to stop early (a loaded machine) still has the scaling figures
#
# Each pass runs copy, load, pull, opentravel, transform, reconcile, export,
# nightly, serve, ari, ari-promotion, freshness and report once, in that order, at the base scale;
# then citus runs once (transform, reconcile and nightly on the single server
# and on a three-node Citus cluster, when Citus is installed), and pull and
# transform once more at ten times the scale, for the scaling table. Each benchmark prints its
# own lines (kept in .local/bench/) and appends its figures, each with the
# anchor or floor it measured in the same run, to .local/bench/records.tsv
# (scripts/bench-common.sh); scripts/bench-report.py turns that into the
# report. A benchmark that fails is reported as failed, the others go on, and
# the exit status is 1.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: scripts/bench.sh BIN_DIR}
: "${DATABASE_URL:?bench: DATABASE_URL is not set; fix: run make bench, which starts the local server}"
case "${QUICK:-0}" in
0 | "") RUNS=${RUNS:-3} BASE=1 ;;
*) RUNS=${RUNS:-1} BASE=0.1 ;;
esac
ALL="copy load pull opentravel transform reconcile export nightly serve ari ari-promotion freshness report citus"
ONLY=${ONLY:-$ALL}
OUT=${BENCH_OUT:-docs/benchmarks.md}
STATE=$PWD/.local/bench
export BENCH_RECORD=$STATE/records.tsv
mkdir -p "$STATE"
touch "$BENCH_RECORD" "$STATE/runs.tsv"
# Drop what this run measures again; with ONLY, the other benchmarks' lines stay.
for file in "$BENCH_RECORD" "$STATE/runs.tsv"; do
    awk -F'\t' -v only=" $ONLY " 'index(only, " " $2 " ") == 0' "$file" >"$file.kept"
    mv "$file.kept" "$file"
done
# The commit measured: the binaries are built from the tree as it is now.
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- Sources sql scripts Package.swift 2>/dev/null || COMMIT="$COMMIT with uncommitted changes"
TEN=$(awk -v b="$BASE" 'BEGIN { print b * 10 }')
scaled() { awk -v n="$1" -v s="$2" 'BEGIN { v = int(n * s + 0.5); print (v < 1 ? 1 : v) }'; }

# The command line of benchmark $1 at scale $2, as the report prints it.
command_of() {
    local b="$BIN"
    case "$1" in
    copy) echo "bash scripts/bench-copy.sh $b --rows $(scaled 1000000 "$2") --runs 1" ;;
    load) echo "bash scripts/bench-load.sh $b $(scaled 1000000 "$2")" ;;
    pull) echo "bash scripts/bench-pull.sh $b $(scaled 190 "$2")" ;;
    opentravel) echo "bash scripts/bench-opentravel.sh $b $(scaled 100 "$2")" ;;
    transform) echo "SCALE=$2 bash scripts/bench-transform.sh" ;;
    reconcile) echo "SCALE=$2 REPEATS=1 bash scripts/bench-reconcile.sh" ;;
    export) echo "REPEATS=1 bash scripts/bench-export.sh $b $(scaled 1000000 "$2")" ;;
    nightly) echo "bash scripts/bench-nightly.sh $b $(scaled 50 "$2")" ;;
    serve) echo "bash scripts/bench-serve.sh $b $(scaled 30 "$2")" ;;
    ari) echo "bash scripts/bench-ari.sh $b $(scaled 10 "$2") 750 $(scaled 2000 "$2")" ;;
    ari-promotion) echo "SCALE=$2 DELTAS=$(scaled 1000 "$2") bash scripts/bench-ari-promotion.sh" ;;
    freshness) echo "bash scripts/bench-freshness.sh $b $(scaled 60 "$2") $(scaled 15 "$2")" ;;
    report) echo "bash scripts/bench-report.sh $b $(scaled 50 "$2")" ;;
    citus) echo "bash scripts/bench-citus.sh $b $2" ;;
    *) echo "bench: no benchmark named $1; fix: ONLY takes some of: $ALL" >&2; return 1 ;;
    esac
}

failed=0
run_one() { # name scale pass
    local cmd log t0 load0 status=ok
    cmd=$(command_of "$1" "$2")
    log="$STATE/$1-x$2-pass$3.log"
    load0=$(cut -d' ' -f1 /proc/loadavg)
    echo "== bench $1 at ${2}x, pass $3: $cmd"
    t0=$(date +%s.%N)
    BENCH_NAME=$1 BENCH_SCALE=$2 BENCH_PASS=$3 bash -c "$cmd" 2>&1 | tee "$log" || status=failed
    [ "$status" = ok ] || { failed=1; echo "== bench $1 FAILED; its output: $log"; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$3" "$1" "$2" \
        "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" "$status" "$load0" "$cmd" \
        "$COMMIT" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$STATE/runs.tsv"
}

SHOWN="make bench${QUICK:+ QUICK=$QUICK}${TEN_AFTER:+ TEN_AFTER=$TEN_AFTER}"
TEN_AFTER=${TEN_AFTER:-$RUNS}
for pass in $(seq 1 "$RUNS"); do
    for name in $ONLY; do [ "$name" = citus ] || run_one "$name" "$BASE" "$pass"; done
    [ "$pass" != "$TEN_AFTER" ] && continue
    # Once: the cluster runs its own single-server side (scripts/bench-citus.sh); without Citus
    # installed it says so and records nothing.
    case " $ONLY " in *" citus "*) run_one citus "$BASE" "$pass" ;; esac
    for name in pull transform; do
        case " $ONLY " in *" $name "*) run_one "$name" "$TEN" 1 ;; esac
    done
done
python3 scripts/bench-report.py --state "$STATE" --out "$OUT" --runs "$RUNS" \
    --base "$BASE" --command "$SHOWN" --bin "$BIN"
exit "$failed"
