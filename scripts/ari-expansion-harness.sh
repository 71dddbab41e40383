#!/usr/bin/env bash
# The expansion of pushed OpenTravel ARI messages alone, without the HTTP side and
# with any build (a debug one too): the messages are stored straight into
# staging.ari_messages, as the receiver stores them (the same parsed `data`), then
# `ota-ingest serve` is started and timed until none waits. Two phases, like
# scripts/bench-ari.sh: a full flush of PROPERTIES hotels x DAYS nights (two messages
# a hotel), then DELTAS one-field deltas over 7 nights (the very messages
# scripts/ari-load.py sends). Prints messages/s and cells/s of each phase; the
# figures include serve's start (a fraction of a second). serve's continuous
# promotion is off, so the expansion has the server to itself; PROMOTE=true turns it
# on, as scripts/bench-ari.sh runs it.
#
#   [PROMOTE=true] scripts/ari-expansion-harness.sh BIN_DIR [PROPERTIES] [DAYS] [DELTAS]
#
# On the server of $DATABASE_URL (make db-start; set -a; . .local/pg.env), in a
# database of its own that it drops at the end.
set -euo pipefail
. "$(dirname "$0")/bench-common.sh"
BIN=${1:?usage: scripts/ari-expansion-harness.sh BIN_DIR [PROPERTIES] [DAYS] [DELTAS]}
PROPERTIES=${2:-10}
DAYS=${3:-750}
DELTAS=${4:-2000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
url=$(bench_fresh_db ota_ari_harness "$BIN")
serve_pid=
cleanup() {
    grep -i "error" "$WORK/serve.log" >&2 || true
    [ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null || true
    [ -z "$serve_pid" ] || wait "$serve_pid" 2>/dev/null || true
    psql "$DATABASE_URL" -X -q -c "drop database if exists ota_ari_harness with (force)" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
"$BIN/ota-ingest" seed --dir "$ROOT/seeds" --database-url "$url" >/dev/null
q() { psql "$url" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

port=$(bench_free_port)
cat >"$WORK/serve.toml" <<TOML
[sources.bench_cm]
kind = "opentravel"
pull = false
push_username = "cm"
push_password_env = "HARNESS_CM_PASSWORD"

[serve]
port = $port
promote = ${PROMOTE:-false}
basic_username = "wh"
basic_password_env = "HARNESS_PUSH_PASSWORD"
TOML

# The hotels with rate plans, and per hotel its rate plans with their room and the
# number of guests priced (at most 2), in scripts/ari-load.py's order.
q -c "create table public.harness_plans as
      select p.property_code, dense_rank() over (order by p.property_code) - 1 as hotel,
             row_number() over (partition by p.property_code order by p.rate_id) - 1 as nth,
             count(*) over (partition by p.property_code) as plans,
             p.rate_id, p.room_code, least(coalesce(r.max_adults, 2), 2) as guests
      from dims.rate_plans p join dims.rooms r using (property_code, room_code)
      where not p.auto_registered"
q -c "delete from public.harness_plans where hotel >= $PROPERTIES"
hotels=$(q -c "select count(distinct hotel) from public.harness_plans")

store() { # $1: a select of (property_code, message_key, root, data), in arrival order
    q -c "insert into staging.ari_messages (source, property_code, message_key, root, ota_time, raw, data, run_id)
          select 'bench_cm', property_code, message_key, root, '2026-12-01T10:00:00Z', '', data, 'harness'
          from ($1) m"
}

# serve until nothing waits; prints seconds.
expand() {
    local t0 t1
    t0=$(bench_now)
    HARNESS_PUSH_PASSWORD=unused HARNESS_CM_PASSWORD=unused \
        "$BIN/ota-ingest" serve --config "$WORK/serve.toml" --database-url "$url" >>"$WORK/serve.log" 2>&1 &
    serve_pid=$!
    while [ "$(q -c "select count(*) from staging.ari_messages where expanded_at is null")" != 0 ]; do
        kill -0 "$serve_pid" 2>/dev/null || { echo "harness: serve stopped:" >&2; tail -20 "$WORK/serve.log" >&2; exit 1; }
        sleep 0.02
    done
    t1=$(bench_now)
    kill "$serve_pid"
    wait "$serve_pid" || true
    serve_pid=
    bench_elapsed "$t0" "$t1"
}

cells() { q -c "select count(*) from staging.ari_observations"; }

# Flush: per hotel one availability message (a booking limit and a minimum stay per rate
# plan and week) and one rate message (a price per number of guests per rate plan and week).
store "select property_code, md5('flush-a-' || property_code) as message_key, 'OTA_HotelAvailNotifRQ' as root,
              jsonb_build_object('messages', jsonb_agg(part order by nth, run, kind)) as data
       from (
           select p.property_code, p.nth, w.run, k.kind,
                  jsonb_build_object('room', p.room_code, 'rate', p.rate_id,
                      'start', (date '2027-01-01' + w.run)::text, 'end', (date '2027-01-01' + least(w.run + 6, $DAYS - 1))::text,
                      'fields', case k.kind
                          when 0 then jsonb_build_array(jsonb_build_object('field', 'booking_limit', 'int', 1 + (w.run + p.nth) % 8))
                          else jsonb_build_array(jsonb_build_object('field', 'min_stay', 'int', 1 + (w.run / 7 + p.nth) % 3, 'kind', 'through'))
                      end) as part
           from public.harness_plans p
           cross join generate_series(0, $DAYS - 1, 7) as w(run)
           cross join (values (0), (1)) as k(kind)
       ) a
       group by property_code
       union all
       select property_code, md5('flush-r-' || property_code), 'OTA_HotelRateAmountNotifRQ',
              jsonb_build_object('messages', jsonb_agg(part order by nth, run))
       from (
           select p.property_code, p.nth, w.run,
                  jsonb_build_object('room', p.room_code, 'rate', p.rate_id,
                      'start', (date '2027-01-01' + w.run)::text, 'end', (date '2027-01-01' + least(w.run + 6, $DAYS - 1))::text,
                      'currency', 'EUR', 'tax_included', true,
                      'prices', (select jsonb_agg(jsonb_build_object('guests', g, 'amount', (9000 + 100 * ((w.run / 7 + p.nth) % 40) + 2000 * (g - 1)) / 100.0))
                                 from generate_series(1, p.guests) g)) as part
           from public.harness_plans p
           cross join generate_series(0, $DAYS - 1, 7) as w(run)
       ) r
       group by property_code
       order by 1, 2"
flush_messages=$(q -c "select count(*) from staging.ari_messages")
flush_seconds=$(expand)
flush_cells=$(cells)

# Deltas: message n sets one field (a booking limit, a minimum stay, closed, or the prices)
# of one rate plan over 7 nights, the hotels and rate plans in turn.
store "select p.property_code, md5('delta-' || n) as message_key,
              case when n % 4 = 3 then 'OTA_HotelRateAmountNotifRQ' else 'OTA_HotelAvailNotifRQ' end as root,
              jsonb_build_object('messages', jsonb_build_array(
                  jsonb_build_object('room', p.room_code, 'rate', p.rate_id,
                      'start', (date '2027-01-01' + (n * 7) % greatest(1, $DAYS - 7))::text,
                      'end', (date '2027-01-01' + (n * 7) % greatest(1, $DAYS - 7) + 6)::text)
                  || case n % 4
                      when 0 then jsonb_build_object('fields', jsonb_build_array(jsonb_build_object('field', 'booking_limit', 'int', n % 9)))
                      when 1 then jsonb_build_object('fields', jsonb_build_array(jsonb_build_object('field', 'min_stay', 'int', 1 + n % 5, 'kind', 'through')))
                      when 2 then jsonb_build_object('fields', jsonb_build_array(jsonb_build_object('field', 'stop_sell', 'bool', n % 2 = 0)))
                      else jsonb_build_object('currency', 'EUR', 'tax_included', true,
                          'prices', (select jsonb_agg(jsonb_build_object('guests', g, 'amount', (8000 + n % 5000 + 2000 * (g - 1)) / 100.0))
                                     from generate_series(1, p.guests) g))
                  end)) as data
       from generate_series(0, $DELTAS - 1) as n
       join public.harness_plans p on p.hotel = n % $hotels and p.nth = (n / $hotels) % p.plans
       order by n"
delta_seconds=$(expand)
delta_cells=$(($(cells) - flush_cells))

awk -v fm="$flush_messages" -v fs="$flush_seconds" -v fc="$flush_cells" \
    -v dm="$DELTAS" -v ds="$delta_seconds" -v dc="$delta_cells" -v h="$hotels" -v d="$DAYS" 'BEGIN {
    printf "ari expansion harness (%s hotels x %s nights)\n", h, d
    printf "  flush:  %d messages, %d cells in %.2f s = %.0f cells/s, %.1f messages/s\n", fm, fc, fs, fc / fs, fm / fs
    printf "  deltas: %d messages, %d cells in %.2f s = %.0f cells/s, %.1f messages/s\n", dm, dc, ds, dc / ds, dm / ds
}'
