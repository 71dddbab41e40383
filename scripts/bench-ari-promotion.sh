#!/usr/bin/env bash
# Promotion of pushed OpenTravel ARI deltas beside the full-state path, on the
# same cells, in the same run:
#
#   full state     the cells' states landed as WebHotelier rate observations
#                  (one row per rate plan x night x guests, every field), then
#                  promoted into facts.rates by the transforms
#   ARI deltas     per property one OTA_HotelRateAmountNotifRQ (a price for 1 and
#                  2 guests) and one OTA_HotelAvailNotifRQ (a booking limit and a
#                  minimum stay), every rate plan over every night: expanded by
#                  sql/ari/ (one row per cell and field set, then each touched
#                  cell's whole state), then promoted by the same transforms
#   small deltas   DELTAS messages of one field over 7 nights of one rate plan,
#                  expanded in batches, then promoted in one transform
#
# 10 properties x 25 rate plans x 1,000 nights x 4 fields = 1,000,000 delta cells
# at SCALE=1 (500,000 states); SCALE=0.1 is 100 nights. Uses a scratch database
# next to $OTA_TEST_ADMIN_URL's, built with psql from sql/; the data is generated
# (deterministic), never stored. The expansion runs as serve runs it: a batch of
# one hotel's waiting messages per transaction (sql/ari/00_batch.sql), JIT off.
#
#   scripts/bench-ari-promotion.sh          SCALE=0.01 DELTAS=100 for a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-common.sh
: "${OTA_TEST_ADMIN_URL:?run make db-start first (or set OTA_TEST_ADMIN_URL)}"
SCALE=${SCALE:-1}
DELTAS=${DELTAS:-1000}
PROPERTIES=10
RATES=25
NIGHTS=$(awk -v s="$SCALE" 'BEGIN { n = int(1000 * s); print (n < 7 ? 7 : n) }')
DB=ota_bench_ari
URL="${OTA_TEST_ADMIN_URL%/*}/$DB"
export PGOPTIONS="-c client_min_messages=warning"
psql_q() { psql "$URL" -X -q -v ON_ERROR_STOP=1 "$@"; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
fmt() { printf "%'d" "$1"; }
transform() { # prints the seconds of one transform run, as `ota-ingest transform` runs it (without checks)
    local t0 t1
    t0=$(bench_now)
    cat sql/transforms/*.sql | psql_q -1 >/dev/null
    t1=$(bench_now)
    bench_elapsed "$t0" "$t1"
}
expand_all() { # every waiting message, in batches, one transaction each, as serve's expander
    while [ "$(psql_q -Atc "select count(*) from staging.ari_messages where expanded_at is null")" != 0 ]; do
        { echo "set local jit = off;"; cat sql/ari/*.sql; } | psql_q -1 >/dev/null
    done
}

bench_create_db "$OTA_TEST_ADMIN_URL" "$DB"
trap 'bench_drop_db "$OTA_TEST_ADMIN_URL" "$DB"' EXIT
for f in sql/bootstrap.sql sql/migrations/*.sql; do psql_q -1 -f "$f" >/dev/null; done
psql_q >/dev/null <<SQL
insert into dims.properties (property_code, name, currency, time_zone, reporting_currency)
select 'ARI' || lpad(p::text, 2, '0'), 'ARI' || p, 'EUR', 'UTC', 'EUR' from generate_series(1, $PROPERTIES) p;
insert into dims.rooms (property_code, room_code, name, max_adults)
select 'ARI' || lpad(p::text, 2, '0'), 'R' || r, 'R' || r, 2 from generate_series(1, $PROPERTIES) p, generate_series(0, 4) r;
insert into dims.rate_plans (property_code, rate_id, room_code, name)
select 'ARI' || lpad(p::text, 2, '0'), (30000 + r)::text, 'R' || (r % 5), 'rate ' || r
from generate_series(1, $PROPERTIES) p, generate_series(1, $RATES) r;
SQL

# The full-state path: every cell's state as a WebHotelier rate observation.
psql_q >/dev/null <<SQL
select staging.ensure_load_partitions((now() at time zone 'UTC')::date);
insert into staging.rate_observations (source, stream, property_code, rate_id, room_code, stay_date, adults,
    children, channel, price, currency, closeout, min_stay, available, observed_at, load_date, batch_id, run_id, raw)
select 'webhotelier', 'rates', 'ARI' || lpad(p::text, 2, '0'), (30000 + r)::text, 'R' || (r % 5), '2027-01-01'::date + n,
       a, 0, '', 80 + r + 10 * a, 'EUR', false, 2, 4, '2026-06-01 06:00Z', (now() at time zone 'UTC')::date, 'bench',
       'bench', '{}'
from generate_series(1, $PROPERTIES) p, generate_series(1, $RATES) r, generate_series(1, 2) a,
     generate_series(0, $NIGHTS - 1) n;
analyze staging.rate_observations;
SQL
STATES=$((PROPERTIES * RATES * NIGHTS * 2))
full_promote=$(transform)

# The ARI path: the same cells pushed as two messages per property.
LAST=$(psql_q -Atc "select ('2027-01-01'::date + $NIGHTS - 1)::text")
psql_q >/dev/null <<SQL
insert into staging.ari_messages (source, property_code, message_key, root, ota_time, raw, data, run_id)
select 'cm', h, h || '/rates', 'OTA_HotelRateAmountNotifRQ', '2026-06-01 06:00Z', '',
       jsonb_build_object('messages', jsonb_agg(jsonb_build_object(
           'room', 'R' || (r % 5), 'rate', (30000 + r)::text, 'start', '2027-01-01', 'end', '$LAST',
           'prices', jsonb_build_array(jsonb_build_object('guests', 1, 'amount', 90 + r),
                                       jsonb_build_object('guests', 2, 'amount', 100 + r)),
           'currency', 'EUR', 'tax_included', true))), 'bench'
from (select 'ARI' || lpad(p::text, 2, '0') as h from generate_series(1, $PROPERTIES) p) hotels,
     generate_series(1, $RATES) r
group by h;
insert into staging.ari_messages (source, property_code, message_key, root, ota_time, raw, data, run_id)
select 'cm', h, h || '/avail', 'OTA_HotelAvailNotifRQ', '2026-06-01 06:00:01Z', '',
       jsonb_build_object('messages', jsonb_agg(jsonb_build_object(
           'room', 'R' || (r % 5), 'rate', (30000 + r)::text, 'start', '2027-01-01', 'end', '$LAST',
           'fields', jsonb_build_array(jsonb_build_object('field', 'booking_limit', 'int', 4),
                                       jsonb_build_object('field', 'min_stay', 'int', 2, 'kind', 'through'))))), 'bench'
from (select 'ARI' || lpad(p::text, 2, '0') as h from generate_series(1, $PROPERTIES) p) hotels,
     generate_series(1, $RATES) r
group by h;
SQL
t0=$(bench_now)
expand_all
t1=$(bench_now)
ari_expand=$(bench_elapsed "$t0" "$t1")
DELTA_CELLS=$(psql_q -Atc "select count(*) from staging.ari_observations")
ARI_STATES=$(psql_q -Atc "select count(*) from staging.rate_observations where stream = 'ari'")
ari_promote=$(transform)

# Small deltas after that: one field, 7 nights, one rate plan each, at increasing times.
psql_q >/dev/null <<SQL
insert into staging.ari_messages (source, property_code, message_key, root, ota_time, raw, data, run_id)
select 'cm', 'ARI' || lpad((1 + d % $PROPERTIES)::text, 2, '0'), 'ARI' || lpad((1 + d % $PROPERTIES)::text, 2, '0') || '/d' || d,
       'OTA_HotelAvailNotifRQ', '2026-06-01 07:00Z'::timestamptz + d * interval '1 second', '',
       jsonb_build_object('messages', jsonb_build_array(jsonb_build_object(
           'room', 'R' || ((1 + d % $RATES) % 5), 'rate', (30001 + d % $RATES)::text,
           'start', ('2027-01-01'::date + d % greatest($NIGHTS - 7, 1))::text,
           'end', ('2027-01-01'::date + d % greatest($NIGHTS - 7, 1) + 6)::text,
           'fields', jsonb_build_array(jsonb_build_object('field', 'max_stay', 'int', 7 + d % 20))))), 'bench'
from generate_series(1, $DELTAS) d;
SQL
t0=$(bench_now)
expand_all
t1=$(bench_now)
small_expand=$(bench_elapsed "$t0" "$t1")
SMALL_STATES=$(psql_q -Atc "select count(*) from staging.rate_observations where stream = 'ari'")
SMALL_STATES=$((SMALL_STATES - ARI_STATES))
small_promote=$(transform)
same=$(psql_q -Atc "
    select count(*) from facts.rates a join facts.rates w
      on (w.property_code, w.rate_id, w.room_code, w.stay_date, w.adults) = (a.property_code, a.rate_id, a.room_code, a.stay_date, a.adults)
     and w.source = 'webhotelier' and w.is_current
    where a.source = 'cm' and a.is_current and (a.price, a.available, a.min_stay) = (w.price, w.available, w.min_stay)")

echo "ARI promotion, $PROPERTIES properties x $RATES rate plans x $NIGHTS nights (SCALE=$SCALE):"
echo "  full state: $(fmt "$STATES") states promoted in ${full_promote}s ($(fmt "$(rate "$STATES" "$full_promote")") states/s)"
echo "  ARI deltas: $(fmt "$DELTA_CELLS") delta cells in $((PROPERTIES * 2)) messages expanded (with $(fmt "$ARI_STATES") states) in ${ari_expand}s ($(fmt "$(rate "$DELTA_CELLS" "$ari_expand")") cells/s), promoted in ${ari_promote}s ($(fmt "$(rate "$ARI_STATES" "$ari_promote")") states/s; $(awk -v a="$ari_promote" -v b="$full_promote" 'BEGIN { printf "%.2fx", a / b }') the full-state promotion)"
echo "  small deltas: $DELTAS messages expanded in ${small_expand}s ($(awk -v n="$DELTAS" -v s="$small_expand" 'BEGIN { printf "%.1f", 1000 * s / n }') ms each, $(fmt "$SMALL_STATES") states), promoted in ${small_promote}s"
echo "  check: $(fmt "$same") of $(fmt "$STATES") current ARI cells equal the full-state cells (price, booking limit, minimum stay)"
bench_record "ARI delta cells expanded into states, per second" "$(rate "$DELTA_CELLS" "$ari_expand")" cells/s
bench_record "ARI states promoted, beside the same cells' full-state promotion" "$ari_promote" s \
    "full-state promotion of the same cells" "$full_promote" "ratio<=1.5"
bench_record "small ARI delta expanded (one field, 7 nights)" "$(awk -v n="$DELTAS" -v s="$small_expand" 'BEGIN { printf "%.1f", 1000 * s / n }')" ms
