#!/usr/bin/env bash
# `make bench` part: OpenTravel availability and rate pushes (ARI) through `ota-ingest
# serve` over loopback, in durable cells/s and messages/s, on a PostgreSQL cluster of its
# own with fsync and synchronous_commit on. A cell is durable once its message was
# answered <Success/> (committed before the answer) and expanded into
# staging.ari_observations (after the answer, in serve). Two phases (scripts/ari-load.py):
#
#   flush    per hotel (the first PROPERTIES the seeds give rate plans) a full flush of DAYS nights (a booking limit, a minimum stay
#            and prices for 1 and 2 guests for every rate plan): two large messages
#   deltas   DELTAS small messages of one field over 7 nights of one rate plan
#
# Each beside the same run's floor: COPY of the very cells the phase expanded, as typed
# rows, into a table like staging.ari_observations (same columns, same indexes), in one
# durable transaction. Target: at least 0.5x the floor.
#
#   scripts/bench-ari.sh BIN_DIR [PROPERTIES] [DAYS] [DELTAS]
set -euo pipefail
. "$(dirname "$0")/bench-common.sh"
BIN=${1:?usage: scripts/bench-ari.sh BIN_DIR [PROPERTIES] [DAYS] [DELTAS]}
PROPERTIES=${2:-10}
DAYS=${3:-750}
DELTAS=${4:-2000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

bench_durable_cluster ari
trap bench_durable_cluster_stop EXIT
url=$BENCH_PG_URL
"$BIN/ota-ingest" migrate --database-url "$url" >/dev/null
"$BIN/ota-ingest" seed --dir "$ROOT/seeds" --database-url "$url" >/dev/null

serve_port=$(bench_free_port)
cat >"$BENCH_WORK/serve.toml" <<TOML
[sources.bench_cm]
kind = "opentravel"
pull = false
push_username = "cm"
push_password_env = "BENCH_CM_PASSWORD"

[serve]
port = $serve_port
basic_username = "wh"
basic_password_env = "BENCH_PUSH_PASSWORD"
TOML
BENCH_PUSH_PASSWORD=unused BENCH_CM_PASSWORD=bench-cm \
    PGOPTIONS="-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=150 -c auto_explain.log_analyze=on -c auto_explain.log_timing=on" "$BIN/ota-ingest" serve --config "$BENCH_WORK/serve.toml" --database-url "$url" >"$BENCH_WORK/serve.log" 2>&1 &
BENCH_CLEANUP_PIDS="$!"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$serve_port/healthz" >/dev/null && break; sleep 0.1; done

( while sleep 0.5; do echo "$(date +%s.%N | cut -c1-14) $(psql -X -At "$url" -c "select count(*) filter (where expanded_at is null), count(*) from staging.ari_messages" 2>/dev/null) $(psql -X -At "$url" -c "select string_agg(coalesce(wait_event_type,'-')||':'||coalesce(wait_event,'-')||':'||left(query, 30), ' | ') from pg_stat_activity where application_name like 'ota%' and state = 'active'" 2>/dev/null)"; done > /tmp/prof/ari-trace.txt ) &
tracer=$!
python3 "$ROOT/scripts/ari-load.py" --base "http://127.0.0.1:$serve_port" --source bench_cm --user cm \
    --password bench-cm --database-url "$url" --properties "$PROPERTIES" --days "$DAYS" --deltas "$DELTAS" \
    >"$BENCH_WORK/phases.jsonl" || { echo "bench-ari: the load failed; serve's log:" >&2; tail -20 "$BENCH_WORK/serve.log" >&2; exit 1; }

kill $tracer; cp "$BENCH_WORK/pg.log" /tmp/prof/ari-pg.log
# The floor of a phase: its cells copied out as typed rows, then COPY'd into a table like
# staging.ari_observations in one durable transaction; prints seconds.
floor_of() { # $1 first arrival, $2 last arrival (exclusive; 0: none)
    psql -X -q "$url" -c "\\copy (select * from staging.ari_observations where arrival >= $1 and ($2 = 0 or arrival < $2)) to '$BENCH_WORK/cells.copy'"
    psql -X -q "$url" -c "drop table if exists public.floor_cells" \
        -c "create table public.floor_cells (like staging.ari_observations including all)"
    local t0 t1
    t0=$(bench_now)
    psql -X -q "$url" -c "\\copy public.floor_cells from '$BENCH_WORK/cells.copy'"
    t1=$(bench_now)
    bench_elapsed "$t0" "$t1"
}
read -r flush_first < <(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][0]["first_arrival"])' "$BENCH_WORK/phases.jsonl")
read -r delta_first < <(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][1]["first_arrival"])' "$BENCH_WORK/phases.jsonl")
flush_floor=$(floor_of "$flush_first" "$delta_first")
delta_floor=$(floor_of "$delta_first" 0)

python3 - "$BENCH_WORK/phases.jsonl" "$flush_floor" "$delta_floor" "$PROPERTIES" "$DAYS" >"$BENCH_WORK/report.txt" <<'PY'
import json, sys
phases = [json.loads(l) for l in open(sys.argv[1])]
floors = [float(sys.argv[2]), float(sys.argv[3])]
print(f"bench-ari: OpenTravel ARI pushes through serve over loopback, PostgreSQL with fsync and synchronous_commit on")
for p, floor in zip(phases, floors):
    cells_s, floor_s = p["cells"] / p["seconds"], p["cells"] / floor
    label = f"{p['hotels']} hotels x {sys.argv[5]} nights, full flush" if p["phase"] == "flush" else "small deltas (one field, 7 nights)"
    print(f"  {label}: {p['messages']} messages ({p['bytes'] / 1e6:.1f} MB), {p['cells']} cells, answered in {p['answered_seconds']:.2f} s, "
          f"expanded in {p['seconds']:.2f} s = {cells_s:,.0f} durable cells/s, {p['messages'] / p['seconds']:,.1f} messages/s")
    print(f"    floor: COPY of the same {p['cells']} cells as typed rows: {floor:.2f} s = {floor_s:,.0f} cells/s; ratio {cells_s / floor_s:.2f}x (target >= 0.5x)")
    print(f"RECORD\t{p['phase']}\t{cells_s:.0f}\t{floor_s:.0f}\t{p['messages'] / p['seconds']:.1f}")
PY
grep -v '^RECORD' "$BENCH_WORK/report.txt"
while IFS=$'\t' read -r _ phase cells floor messages; do
    what=$([ "$phase" = flush ] && echo "a full flush" || echo "small deltas")
    bench_record "durable ARI cells/s, $what" "$cells" cells/s "COPY of the same cells as typed rows" "$floor" "ratio>=0.5"
    bench_record "durable ARI messages/s, $what" "$messages" messages/s
done < <(grep '^RECORD' "$BENCH_WORK/report.txt")
