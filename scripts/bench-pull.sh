#!/usr/bin/env bash
# `make bench` part: pulls about 1,000,000 cursor-feed rate records from a local
# ota-sandbox into a fresh database and reports records/s end to end, CPU-seconds
# per million records for ota-ingest, the sandbox and PostgreSQL, and ota-ingest's
# peak memory; then, in the same run, `ota-ingest load rates` of the same records
# from an NDJSON file into another fresh database, and the ratio of the two
# rates (target: the pull at least 0.7x the load, so HTTP and paging cost little
# beside landing).
#
#   scripts/bench-pull.sh BIN_DIR [PROPERTIES]     (DATABASE_URL and PGDATA from .local/pg.env)
set -euo pipefail
. "$(dirname "$0")/bench-common.sh"
BIN=${1:?usage: scripts/bench-pull.sh BIN_DIR [PROPERTIES]}
PROPERTIES=${2:-190}
: "${DATABASE_URL:?bench-pull: DATABASE_URL is not set; fix: run make bench}"
: "${PGDATA:?bench-pull: PGDATA is not set; fix: run make bench}"
work=$(mktemp -d)
db=bench_pull
load_db=bench_pull_load
dlt_db=bench_pull_dlt
cleanup() {
    kill "${BENCH_SANDBOX_PID:-}" 2>/dev/null || true
    psql -X -q "$DATABASE_URL" -c "drop database if exists $db with (force)" -c "drop database if exists $load_db with (force)" \
        -c "drop database if exists $dlt_db with (force)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
bench_start_sandbox "$BIN" "$work/sandbox.log" --properties "$PROPERTIES" --initial-bookings 0
spid=$BENCH_SANDBOX_PID
base=$BENCH_SANDBOX_URL
url=$(bench_fresh_db "$db" "$BIN")
cat >"$work/bench.toml" <<TOML
[sources.bench]
kind = "cursor"
base_url = "$base/v2"
token_env = "BENCH_TOKEN"
page_size = 5000
requests_per_second = 10000
burst = 10000
TOML

ticks=$(getconf CLK_TCK)
cpu_of() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }
postmaster=$(head -1 "$PGDATA/postmaster.pid" 2>/dev/null || sudo head -1 "$PGDATA/postmaster.pid")
# PostgreSQL's CPU: the live backends' plus, in the postmaster's own counters
# (cutime, cstime), every backend that has exited and been reaped. Backends
# that exit while this reads are what earlier runs missed (1.1, 11.3 and 13.0
# CPU-s per million in three runs), so the end reading waits until the pull's
# backends are gone, and reads the children before the postmaster.
pg_cpu() {
    local total=0
    for child in $(ps --ppid "$postmaster" -o pid=); do
        total=$((total + $(cpu_of "$child" 2>/dev/null || echo 0)))
    done
    echo $((total + $(cpu_of "$postmaster")))
}
quiesce() { # until no backend of database $1 is left, then a moment for the reaping
    for _ in $(seq 1 100); do
        [ "$(psql "$DATABASE_URL" -Atc "select count(*) from pg_stat_activity where datname = '$1'")" = 0 ] && break
        sleep 0.1
    done
    sleep 0.2
}
s0=$(cpu_of "$spid"); p0=$(pg_cpu)
TIMEFORMAT='%R %U %S'
{ time BENCH_TOKEN=sandbox-token "$BIN/ota-ingest" pull inventory --config "$work/bench.toml" --database-url "$url" \
    >"$work/summary.txt" 2>"$work/ingest.log"; } 2>"$work/time.txt"
quiesce "$db"
s1=$(cpu_of "$spid"); p1=$(pg_cpu)
read -r wall user sys <"$work/time.txt"
records=$(psql "$url" -Atc "select count(*) from staging.rate_observations")
peak=$(psql "$url" -Atc "select (counts->>'peak_rss_kb')::int / 1024 from ops.runs order by started_at desc limit 1")
awk -v r="$records" -v w="$wall" -v u="$user" -v s="$sys" -v sc="$((s1 - s0))" -v pc="$((p1 - p0))" \
    -v t="$ticks" -v peak="$peak" 'BEGIN {
    m = r / 1000000
    printf "pull inventory: %d records in %.1f s = %d records/s end to end\n", r, w, r / w
    printf "CPU-seconds per million records: ota-ingest %.1f, ota-sandbox %.1f, PostgreSQL %.1f\n", (u + s) / m, sc / t / m, pc / t / m
    printf "ota-ingest peak memory: %d MB (target < 256)\n", peak
}'

# The same records as `ota-ingest load rates` takes them, landed in the same run.
psql "$url" -Atc "copy (select json_build_object('property', property_code, 'rate_id', rate_id, 'room', room_code,
    'date', stay_date, 'adults', adults, 'children', children, 'price', price, 'currency', currency,
    'closeout', closeout::int, 'min_stay', min_stay) from staging.rate_observations) to stdout" >"$work/same.ndjson"
psql -X -q "$DATABASE_URL" -c "drop database if exists $db with (force)"
load_url=$(bench_fresh_db "$load_db" "$BIN")
{ time "$BIN/ota-ingest" load rates --source bench --file "$work/same.ndjson" --database-url "$load_url" \
    >"$work/load.txt" 2>&1; } 2>"$work/load-time.txt"
read -r load_wall _ _ <"$work/load-time.txt"
loaded=$(psql "$load_url" -Atc "select count(*) from staging.rate_observations")
awk -v r="$records" -v w="$wall" -v l="$loaded" -v lw="$load_wall" 'BEGIN {
    printf "ota-ingest load rates of the same %d records from a file: %.1f s = %d records/s\n", l, lw, l / lw
    printf "ratio pull/load: %.2fx (target >= 0.70x)\n", (r / w) / (l / lw)
}'
bench_record "pull inventory, end to end" "$(awk -v r="$records" -v w="$wall" 'BEGIN { printf "%.0f", r / w }')" records/s \
    "ota-ingest load rates of the same records from a file" "$(awk -v l="$loaded" -v w="$load_wall" 'BEGIN { printf "%.0f", l / w }')" "ratio>=0.7"
bench_record "records pulled" "$records" records
bench_record "pull inventory, wall time" "$wall" s "ota-ingest load rates of the same records, wall time" "$load_wall"
bench_record "ota-ingest CPU-s per million records pulled" "$(awk -v r="$records" -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", (u + s) / (r / 1000000) }')" CPU-s
bench_record "ota-ingest peak memory during the pull" "$peak" MB "" "" "value<256"

# The anchor: dlt reading the same feed from the same sandbox (scripts/anchors/dlt-pull/),
# into a database of its own on the same server, when make bench-anchors installed it.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${ANCHORS_VENV:-$ROOT/.local/anchors-venv}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import dlt' 2>/dev/null; then
    psql -X -q "$DATABASE_URL" -c "drop database if exists $dlt_db with (force)" -c "create database $dlt_db"
    # dlt's postgres destination wants a password in its URL; the server trusts local logins.
    dlt_dsn=$(python3 -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); user = p.username or "postgres"; print(u.urlunparse(p._replace(netloc=user + ":trust@" + p.hostname + ":" + str(p.port))))' "$(bench_db_url "$dlt_db")")
    mkdir -p "$work/dlt"
    (cd "$work/dlt" && "$VENV/bin/python" "$ROOT/scripts/anchors/dlt-pull/pipeline.py" "$base/v2" sandbox-token "$dlt_dsn" 5000 \
        "$work/dlt" >"$work/dlt.json" 2>"$work/dlt.log") || { echo "bench-pull: the dlt anchor failed:" >&2; tail -20 "$work/dlt.log" >&2; exit 1; }
    read -r dlt_records dlt_seconds dlt_version < <(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["records"], d["seconds"], d["dlt"])' "$work/dlt.json")
    awk -v r="$records" -v w="$wall" -v dr="$dlt_records" -v ds="$dlt_seconds" -v v="$dlt_version" 'BEGIN {
        printf "anchor: dlt %s (RESTClient, cursor paginator, csv loader) pulled %d records in %.1f s = %d records/s\n", v, dr, ds, dr / ds
        printf "ratio pull/dlt: %.2fx\n", (r / w) / (dr / ds)
    }'
    bench_record "pull inventory beside dlt reading the same feed" "$(awk -v r="$records" -v w="$wall" 'BEGIN { printf "%.0f", r / w }')" records/s \
        "dlt $dlt_version: RESTClient with a cursor paginator, csv loader into the same server" \
        "$(awk -v r="$dlt_records" -v s="$dlt_seconds" 'BEGIN { printf "%.0f", r / s }')" "ratio>=1"
else
    echo "anchor: dlt is not installed (make bench-anchors); this run has no dlt anchor for the pull"
fi
