#!/usr/bin/env bash
# What the Citus cluster costs: the transform (first load, 10% changed, re-landed
# unchanged, nothing new, a backlog of bookings, a micro-batch), reconcile and nightly benchmarks run on the single
# server and then on a three-node cluster (a coordinator and two workers on this
# machine, scripts/citus-cluster.sh), one after the other in this run. Each
# cluster figure is recorded with the single server's as its anchor, so the
# report's ratio is the cluster's overhead. On one machine the three nodes share
# its cores: the cluster cannot be faster, and the ratio is what the coordinator,
# the network hops and two-phase commit add.
#
# The benchmarks are scripts/bench-transform.sh, bench-reconcile.sh and
# bench-nightly.sh themselves, pointed at the cluster (bench-common.sh's
# BENCH_CITUS_ENV: scratch databases on every node, `ota-ingest distribute`).
# On the cluster the coordinator logs every statement over a second
# (log_min_duration_statement), listed at the end, slowest first; and the
# transform benchmark ends with one more 10%-changed promotion run statement by
# statement under EXPLAIN ANALYZE and rolled back (EXPLAIN_SLOWEST), printing
# every statement's time and the slowest one's plan into this log.
#
# Skipped, saying so, when Citus is not installed for the server (make citus).
#
#   scripts/bench-citus.sh BIN_DIR [SCALE]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
BIN=${1:?usage: scripts/bench-citus.sh BIN_DIR [SCALE]}
SCALE=${2:-${SCALE:-1}}
: "${DATABASE_URL:?bench-citus: DATABASE_URL is not set; fix: make db-start, then set -a; . .local/pg.env}"
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ ! -f "$("$PGBIN/pg_config" --pkglibdir)/citus.so" ]; then
    echo "bench-citus: skipped: Citus is not installed for this server (fix: make citus)"
    exit 0
fi
scaled() { awk -v n="$1" -v s="$2" 'BEGIN { v = int(n * s + 0.5); print (v < 1 ? 1 : v) }'; }
PROPERTIES=$(scaled 50 "$SCALE")

work=$(mktemp -d)
ENVFILE=$PWD/.local/citus.env
started=
cleanup() {
    [ -z "$started" ] || bash scripts/citus-cluster.sh stop >/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
if ! bash scripts/citus-cluster.sh status >/dev/null 2>&1; then
    bash scripts/citus-cluster.sh start
    started=1
fi
. <(grep '^CITUS_' "$ENVFILE")
read -r -a PORTS <<<"$CITUS_PORTS"
COORDINATOR_LOG=$CITUS_DATA0/server.log

echo "bench-citus: SCALE=$SCALE; one server beside a coordinator and two workers (ports ${PORTS[*]}) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# side name command...: runs one benchmark against one side, its figures into $work/side-name.tsv.
run() {
    local side=$1 name=$2
    shift 2
    echo "== $name on the $side"
    if [ "$side" = cluster ]; then
        (
            . "$ENVFILE"
            export DATABASE_URL OTA_TEST_ADMIN_URL
            # dbt, the transform's anchor, runs against the single server only.
            BENCH_CITUS_ENV=$ENVFILE BENCH_BIN=$BIN ANCHORS_VENV=/nonexistent \
                BENCH_RECORD=$work/$side-$name.tsv BENCH_NAME=$name BENCH_SCALE=$SCALE BENCH_PASS=1 \
                PGOPTIONS="-c log_min_duration_statement=1000" "$@"
        )
    else
        ANCHORS_VENV=/nonexistent BENCH_RECORD=$work/$side-$name.tsv BENCH_NAME=$name BENCH_SCALE=$SCALE \
            BENCH_PASS=1 "$@"
    fi
}

for side in "one server" cluster; do
    explain=
    [ "$side" = cluster ] && explain=1
    run "$side" transform env SCALE="$SCALE" EXPLAIN_SLOWEST=$explain bash scripts/bench-transform.sh
    run "$side" reconcile env SCALE="$SCALE" REPEATS=1 bash scripts/bench-reconcile.sh
    run "$side" nightly bash scripts/bench-nightly.sh "$BIN" "$PROPERTIES"
done

# The cluster's figures beside the single server's: name, one server, cluster, ratio.
echo "== overhead of the cluster (three nodes on this machine) over one server"
printf '%-70s %12s %12s %8s\n' figure "one server" cluster ratio
for name in transform reconcile nightly; do
    [ -f "$work/one server-$name.tsv" ] && [ -f "$work/cluster-$name.tsv" ] || continue
    while IFS=$'\t' read -r figure single unit cluster; do
        [ "$unit" = s ] || continue
        printf '%-70s %10.2f %s %10.2f %s %7s\n' "$name: $figure" "$single" "$unit" "$cluster" "$unit" \
            "$(awk -v a="$cluster" -v b="$single" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
        bench_record "$name: $figure" "$cluster" "$unit" "one server, same run" "$single"
    done < <(awk -F'\t' 'NR == FNR { single[$4] = $5; next } ($4 in single) { print $4 "\t" single[$4] "\t" $6 "\t" $5 }' \
        "$work/one server-$name.tsv" "$work/cluster-$name.tsv")
done

# Where the cluster's time goes: the statements over a second the coordinator logged, slowest first.
echo "== the slowest statements on the cluster's coordinator (log_min_duration_statement = 1 s)"
python3 - "$COORDINATOR_LOG" <<'PY' | tee "$work/slowest.txt"
import re, sys
entries, current = [], None
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"LOG:  duration: ([0-9.]+) ms  (?:statement|execute [^:]*): (.*)", line)
    if m:
        current = [float(m.group(1)), m.group(2)]
        entries.append(current)
    elif current is not None and line.startswith(("\t", " ")):
        current[1] += "\n" + line.rstrip("\n")
    else:
        current = None
for ms, text in sorted(entries, reverse=True)[:8]:
    first = " ".join(text.split())[:160]
    print(f"{ms / 1000:9.2f} s  {first}")
PY
