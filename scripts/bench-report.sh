#!/usr/bin/env bash
# Times `ota-ingest report` over PROPERTIES properties (50) with 13 months of
# booking history and a year of rates ahead, against its floor: psql running
# the feed queries the report reads its figures from (booking pace for the
# stay window, the rate calendar of one property, drift, pipeline health, PSI
# history), median of three runs each; and the report's peak memory.
#
# Usage: scripts/bench-report.sh [BIN_DIR] [PROPERTIES]     (REPEATS: runs of each, 3)
# Needs DATABASE_URL (a superuser of the throwaway server, as `make db-start` writes):
# the bench works in a database of its own, dropped at the end.
set -euo pipefail
. "$(dirname "$0")/bench-common.sh"
bin_dir=${1:-$(swift build -c release --show-bin-path)}
properties=${2:-50}
days=365
: "${DATABASE_URL:?bench-report: DATABASE_URL is not set; fix: make db-start, then set -a; . .local/pg.env}"
[ -x "$bin_dir/ota-ingest" ] || { echo "bench-report: no $bin_dir/ota-ingest; fix: swift build -c release --product ota-ingest"; exit 1; }

work=$(mktemp -d)
db="ota_bench_report_$$"
cleanup() {
    psql -q "$DATABASE_URL" -c "drop database if exists $db with (force)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
bench_url=$(bench_fresh_db "$db" "$bin_dir")
root=$(cd "$(dirname "$0")/.." && pwd)
"$bin_dir/ota-ingest" seed --dir "$root/seeds" --database-url "$bench_url" >/dev/null

# The properties, then their history as a backfill brings it: bookings for stays from
# 395 days ago to a year ahead, each booked 1-90 days before arrival (never after now),
# two a night; current rates for a year ahead, four rate plans.
psql -q -v ON_ERROR_STOP=1 "$bench_url" -v n="$properties" >/dev/null <<'SQL'
insert into dims.properties (property_code, name, currency, time_zone, reporting_currency)
select 'BEN' || lpad(i::text, 3, '0'), 'Bench hotel ' || i, 'EUR', 'Europe/Athens', 'EUR'
from generate_series(1, :n) i;
SQL
python3 - "$properties" "$days" "$work" <<'PY'
import datetime as dt, json, sys
properties, days, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
today = now.date()
stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
ident = 5_000_000
with open(f"{work}/bookings.ndjson", "w") as out:
    for p in range(1, properties + 1):
        code = f"BEN{p:03d}"
        for offset in range(-395, days + 1):
            stay = today + dt.timedelta(days=offset)
            for k in range(2):
                ident += 1
                lead = 1 + (ident * 7) % 90
                booked = min(dt.datetime.combine(stay, dt.time(12), dt.timezone.utc) - dt.timedelta(days=lead),
                             now - dt.timedelta(hours=1))
                body = {"id": ident, "property": code, "status": 1,
                        "roomStay": {"from": str(stay), "to": str(stay + dt.timedelta(days=1 + k))},
                        "bookInfo": {"book_date": stamp(booked)}, "changes": [{"date": stamp(booked)}],
                        "pricing": {"price": 150 + ident % 90, "currency": "EUR"}}
                out.write(json.dumps({"id": ident, "type": "new", "data": body}) + "\n")
seen = stamp(now - dt.timedelta(hours=1))
with open(f"{work}/rates.ndjson", "w") as out:
    for p in range(1, properties + 1):
        for offset in range(days):
            date = str(today + dt.timedelta(days=offset))
            for rate in range(4):
                out.write(json.dumps({"property": f"BEN{p:03d}", "rate_id": str(1001 + rate), "room": "DBL",
                                      "date": date, "adults": 2, "price": 80 + (p * 7 + offset + rate * 13) % 160,
                                      "currency": "EUR", "closeout": int((offset + p) % 17 == 0),
                                      "observed_at": seen}) + "\n")
PY
for stream in reservations rates; do
    file=$work/bookings.ndjson
    [ "$stream" = rates ] && file=$work/rates.ndjson
    "$bin_dir/ota-ingest" load "$stream" --source webhotelier --file "$file" --database-url "$bench_url" \
        --allow-dead-letters >"$work/load-$stream.log" 2>&1 || { cat "$work/load-$stream.log"; exit 1; }
done
"$bin_dir/ota-ingest" transform --database-url "$bench_url" >"$work/transform.log" 2>&1 || { cat "$work/transform.log"; exit 1; }
# Thirty nights of reconciliations per property and stream, as the drift chart reads them.
psql -q -v ON_ERROR_STOP=1 "$bench_url" >/dev/null <<'SQL'
insert into recon.drift_metrics (run_id, snapshot_id, source, stream, property_code, metric, kind, value, threshold,
                                 breached, compared_at)
select 'bench-night-' || n, n * 1000 + row_number() over (partition by n), 'webhotelier', s, p.property_code,
       'mismatched_share', 'drift', ((n * 7 + length(p.property_code)) % 13) / 1000.0, 0.01, false,
       now() - make_interval(days => n)
from generate_series(1, 30) n, unnest(array['reservations', 'availability', 'rates']) s, dims.properties p;
analyze;
SQL
bookings=$(psql -Atq "$bench_url" -c "select count(*) from facts.reservations")
cells=$(psql -Atq "$bench_url" -c "select count(*) from facts.rates")

# The floor: the feed queries behind the report's figures, as psql runs them.
cat >"$work/floor.sql" <<SQL
select count(*) from feeds.booking_pace_as_of(now(), current_date, current_date + $days, null, true);
select count(*) from feeds.rates_as_of(now()) r
where r.property_code = 'BEN001' and r.valid_from <= now() and (r.valid_to is null or r.valid_to > now())
  and r.stay_date between current_date and current_date + $days;
select count(*) from recon.drift_metrics where metric = 'mismatched_share' and compared_at > now() - interval '$days days';
select count(*) from feeds.property_health;
select count(*) from feeds.psi_history;
SQL

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
ours=() floor=() peak=0
for _ in $(seq 1 "${REPEATS:-3}"); do
    start=$(bench_now)
    # Peak memory of the report process, as the kernel counts it (ru_maxrss of the child, KiB).
    kb=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
        "$bin_dir/ota-ingest" report --out "$work/report.html" --days "$days" --database-url "$bench_url" 2>"$work/report.log")
    ours+=("$(echo "$(bench_now) - $start" | bc)")
    [ "$kb" -gt "$peak" ] && peak=$kb
    start=$(bench_now)
    psql -q -v ON_ERROR_STOP=1 "$bench_url" -f "$work/floor.sql" >/dev/null
    floor+=("$(echo "$(bench_now) - $start" | bc)")
done
o=$(printf '%s\n' "${ours[@]}" | median)
f=$(printf '%s\n' "${floor[@]}" | median)
echo "report over $properties properties: $bookings booking versions (13 months back, a year ahead), $cells rate cells, $days stay dates, $(du -k "$work/report.html" | cut -f1) KiB of HTML"
echo "  ota-ingest report: ${ours[*]} s (median $o s), peak memory $((peak / 1024)) MB"
echo "  psql, the feed queries it reads: ${floor[*]} s (median $f s)"
echo "  ratio $(echo "scale=2; $o / $f" | bc)"
bench_record "ota-ingest report, $properties properties x $days days, 13 months of history" "$o" s \
    "psql running the feed queries the report reads" "$f" "ratio<=1.5"
bench_record "ota-ingest report peak memory" "$((peak / 1024))" MB
