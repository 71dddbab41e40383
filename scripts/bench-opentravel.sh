#!/usr/bin/env bash
# `make bench` part: `ota-ingest pull reservations` of an OpenTravel account's queues
# (Booking.com-style: 50 reservations per read, each read committed durably and then
# acknowledged) from a local ota-sandbox into a fresh database, in reservations/s end to
# end; then, in the same run, `ota-ingest load reservations` of the same reservations
# (their staged bodies) from an NDJSON file into another fresh database, the floor: what
# landing alone costs. The ratio says what the queue round trips (read, commit,
# acknowledge) cost beside landing.
#
#   scripts/bench-opentravel.sh BIN_DIR [PROPERTIES] [MINUTES]
#       PROPERTIES hotels of the one account (100); MINUTES of simulated booking
#       activity queued before the pull (10080, a week: about 12,000 reservations
#       at 100 hotels). The pull reads at its smallest cadence (poll_ms = 10).
set -euo pipefail
. "$(dirname "$0")/bench-common.sh"
BIN=${1:?usage: scripts/bench-opentravel.sh BIN_DIR [PROPERTIES] [MINUTES]}
PROPERTIES=${2:-100}
MINUTES=${3:-10080}
: "${DATABASE_URL:?bench-opentravel: DATABASE_URL is not set; fix: run make bench}"
work=$(mktemp -d)
db=bench_opentravel
load_db=bench_opentravel_load
cleanup() {
    kill "${BENCH_SANDBOX_PID:-}" 2>/dev/null || true
    psql -X -q "$DATABASE_URL" -c "drop database if exists $db with (force)" -c "drop database if exists $load_db with (force)" \
        >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
# The sandbox's cadence check (a read every 20 s) is off: the benchmark reads as fast as it can.
bench_start_sandbox "$BIN" "$work/sandbox.log" --properties "$PROPERTIES" --initial-bookings 0 \
    --ot-account user=bench,password=bench-pw --ot-poll-interval 0 --ot-poll-after-ack 0
base=$BENCH_SANDBOX_URL
count_queued() { python3 -c 'import json, sys
print(sum(len(q) for a in json.load(sys.stdin)["accounts"].values() for q in a.values()))'; }
curl -sf -X POST "$base/_sandbox/advance?minutes=$MINUTES" >/dev/null
queued=$(curl -sf "$base/_sandbox/truth/opentravel/queues" | count_queued)
url=$(bench_fresh_db "$db" "$BIN")
cat >"$work/bench.toml" <<TOML
[sources.bdc]
kind = "opentravel"
base_url = "$base/hotels/ota"
credentials_env = "BENCH_ACCOUNT"
auth = "bearer"
poll_ms = 10
after_ack_ms = 10
requests_per_second = 10000
burst = 10000
TOML
TIMEFORMAT='%R %U %S'
status=0
{ time BENCH_ACCOUNT=bench:bench-pw "$BIN/ota-ingest" pull reservations --config "$work/bench.toml" --database-url "$url" \
    >"$work/summary.txt" 2>"$work/ingest.log"; } 2>"$work/time.txt" || status=$?
[ "$status" = 0 ] || { echo "bench-opentravel: the pull exited $status:" >&2; tail -20 "$work/ingest.log" >&2; exit 1; }
read -r wall user sys <"$work/time.txt"
pulled=$(psql "$url" -Atc "select count(*) from staging.reservation_events")
left=$(curl -sf "$base/_sandbox/truth/opentravel/queues" | count_queued)
awk -v r="$pulled" -v q="$queued" -v l="$left" -v w="$wall" -v u="$user" -v s="$sys" 'BEGIN {
    printf "pull reservations (OpenTravel queues): %d reservations (%d queued, %d left) in %.1f s = %d reservations/s end to end\n", r, q, l, w, r / w
    printf "ota-ingest CPU: %.1f s\n", u + s
}'
[ "$left" = 0 ] || { echo "bench-opentravel: the queues were not drained ($left left); see $work/ingest.log" >&2; cat "$work/ingest.log" >&2; exit 1; }

# The same reservations as `ota-ingest load reservations` takes them (a booking body with a
# numeric id), landed in the same run.
psql "$url" -Atc "copy (select jsonb_set(data, '{id}', to_jsonb(confirmation_id::bigint))
    from staging.reservation_events order by event_id) to stdout" >"$work/same.ndjson"
psql -X -q "$DATABASE_URL" -c "drop database if exists $db with (force)"
load_url=$(bench_fresh_db "$load_db" "$BIN")
{ time "$BIN/ota-ingest" load reservations --source bdc --file "$work/same.ndjson" --database-url "$load_url" \
    >"$work/load.txt" 2>&1; } 2>"$work/load-time.txt"
read -r load_wall _ _ <"$work/load-time.txt"
loaded=$(psql "$load_url" -Atc "select count(*) from staging.reservation_events")
[ "$loaded" -gt 0 ] || { echo "bench-opentravel: load landed nothing:" >&2; cat "$work/load.txt" >&2; exit 1; }
awk -v r="$pulled" -v w="$wall" -v l="$loaded" -v lw="$load_wall" 'BEGIN {
    printf "ota-ingest load reservations of the same %d reservations from a file: %.1f s = %d reservations/s\n", l, lw, l / lw
    printf "ratio pull/load: %.2fx\n", (r / w) / (l / lw)
}'
bench_record "pull reservations from OpenTravel queues, end to end" "$(awk -v r="$pulled" -v w="$wall" 'BEGIN { printf "%.0f", r / w }')" \
    reservations/s "ota-ingest load reservations of the same reservations from a file" \
    "$(awk -v l="$loaded" -v w="$load_wall" 'BEGIN { printf "%.0f", l / w }')"
bench_record "reservations pulled from OpenTravel queues" "$pulled" reservations
bench_record "OpenTravel pull, wall time" "$wall" s "ota-ingest load reservations of the same reservations, wall time" "$load_wall"
