#!/usr/bin/env bash
# The main job against the throwaway database and a local OTA sandbox: called by
# `make demo` with the release binaries' directory and DATABASE_URL set.
#
# It configures ota-ingest the way a deployment would (a TOML file plus a
# credentials directory with one file per property, as systemd's
# LoadCredential= gives), lets 13 months pass at the sandbox, then three more days
# with one `ota-ingest nightly` after each, and shows what the users get.
set -euo pipefail
BIN=${1:?usage: scripts/demo.sh BIN_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO="$ROOT/.local/demo"

# A fresh database each time, so the demo always shows a first run from scratch.
: "${OTA_TEST_ADMIN_URL:?demo: run it through make demo}"
PGOPTIONS='-c client_min_messages=warning' psql "$OTA_TEST_ADMIN_URL" -qc "drop database if exists ota_demo with (force)" -c "create database ota_demo"
DATABASE_URL="${OTA_TEST_ADMIN_URL%/*}/ota_demo"
export DATABASE_URL

echo "== ota-ingest migrate"
"$BIN/ota-ingest" migrate

echo
echo "== ota-sandbox: a local OTA with 3 properties and 13 months of history; silent booking changes on (drift only a search sees)"
bash "$ROOT/scripts/sandbox.sh" stop
# The OTA's world starts 13 months (395 days) before today and is run up to three
# days before today before the first night, so last year's pace and the pickup
# in the report are real bookings, not zeros.
start=$(date -u -d "$(date -u +%Y-%m-%d) - 395 days" +%Y-%m-%dT00:00:00Z)
bash "$ROOT/scripts/sandbox.sh" start "$BIN" --seed 1 --properties 3 --min-interval 5 --fault-silent-change 0.05 --start "$start"
# shellcheck disable=SC1091
. "$ROOT/.local/sandbox.env"

# Credentials directory: one file per property code holding username:password,
# as systemd's LoadCredential= would provide. PostgreSQL parses the JSON.
rm -rf "$DEMO" && mkdir -p "$DEMO/credentials" && chmod 700 "$DEMO/credentials"
accounts=$(curl -fsS "$OTA_SANDBOX_URL/_sandbox/accounts")
# psql expands :'accounts' only in statements it reads, not in -c.
psql "$DATABASE_URL" -Atq -v accounts="$accounts" <<'SQL' |
select p->>'code', (p->>'username') || ':' || (p->>'password')
from json_array_elements((:'accounts')::json->'properties') p;
SQL
    while IFS='|' read -r code secret; do
        printf '%s\n' "$secret" >"$DEMO/credentials/$code"
        chmod 600 "$DEMO/credentials/$code"
    done
# One source keeps the demo short. The sandbox's cursor feed (/v2/inventory)
# serves the same rate cells; added as a second source it would keep versions
# of its own, and dims.source_precedence picks what pricing reads.
cat >"$DEMO/ota-ingest.toml" <<TOML
[sources.webhotelier]
kind = "webhotelier"
base_url = "$OTA_SANDBOX_URL"
credentials_dir = "$DEMO/credentials"
stay_window_days = 365
# A local sandbox can take more than WebHotelier's polite default of 5 requests/s.
requests_per_second = 100
burst = 100

TOML
export OTA_INGEST_CONFIG="$DEMO/ota-ingest.toml"

advance() { curl -fsS -X POST "$OTA_SANDBOX_URL/_sandbox/advance?minutes=$1" >/dev/null; }
sandbox_now() { curl -fsS "$OTA_SANDBOX_URL/_sandbox/clock" | sed -n 's/.*"now":"\([^"]*\)".*/\1/p'; }

echo
echo "== ota-ingest seed: reference data for every code the sandbox world uses"
"$BIN/ota-ingest" seed --dir "$ROOT/seeds"

echo
echo "== the OTA's first 392 days pass (bookings made, changed and cancelled; prices moving)"
advance 525600 # at most a year per call
advance $(((392 - 365) * 1440))

# Three simulated days, one nightly after each, as cron would run it. The
# sandbox's clock is simulated, so each night is told the OTA's time (--now).
# The worst exit status of the nights: 1 > 4 > 3 > 0, as nightly ranks its steps.
worst() {
    rank() { case $1 in 1) echo 3 ;; 4) echo 2 ;; 3) echo 1 ;; *) echo 0 ;; esac; }
    if [ "$(rank "$2")" -gt "$(rank "$1")" ]; then echo "$2"; else echo "$1"; fi
}
status=0
for day in 1 2 3; do
    advance 1440
    now=$(sandbox_now)
    echo
    echo "== night $day at the OTA ($now): ota-ingest nightly"
    night=0
    "$BIN/ota-ingest" nightly --now "$now" --metrics-file "$DEMO/nightly.prom" 2>"$DEMO/night-$day.log" || night=$?
    status=$(worst "$status" "$night")
done

echo
echo "== the night's figures for node_exporter ($DEMO/nightly.prom)"
grep -E '^ota_ingest_nightly_(exit_status|duration_seconds|records|landed|dead_letters|unrepaired_breaches) ' "$DEMO/nightly.prom"

echo
echo "== drift: the latest reconciliation of every scope (recon.latest_drift)"
psql "$DATABASE_URL" -q -P pager=off <<'SQL'
select source, stream, property_code,
       max(value) filter (where metric = 'compared_keys')::int as compared,
       max(value) filter (where metric = 'mismatched_keys')::int as mismatched,
       round(100 * max(value) filter (where metric = 'mismatched_share'), 2) as "share %",
       bool_or(breached) filter (where kind = 'drift') as breached,
       bool_or(after_repair) as "after repair"
from recon.latest_drift
group by 1, 2, 3 order by 1, 2, 3;
SQL

# The sandbox's days are simulated while loaded_at is the real time of each
# load, so the report reads the OTA's time line: include_late => true places
# every version by OTA time, as a revenue manager's history report would.
echo
echo "== booking pace for the next 30 days, as of the OTA's now (feeds.booking_pace_as_of), all properties in EUR/USD"
psql "$DATABASE_URL" -q -P pager=off -v now="$now" <<'SQL'
select stay_date, to_char(stay_date, 'Dy') as dow, min(dba_bucket) as dba, sum(room_nights) as rn,
       round(sum(revenue_net_rc)) as revenue_net_rc, round(sum(revenue_net_rc) / nullif(sum(room_nights), 0), 2) as adr_rc,
       sum(pickup_1d) as pickup_1d, sum(pickup_7d) as pickup_7d, sum(ly_room_nights) as ly_rn
from feeds.booking_pace_as_of(:'now'::timestamptz, (:'now'::timestamptz)::date, (:'now'::timestamptz)::date + 30,
                              include_late => true)
group by 1 order by 1;
SQL

echo
echo "== analyst query 1: room nights, net revenue and ADR per property, the next 14 nights (facts.reservation_nights)"
psql "$DATABASE_URL" -q -P pager=off -v now="$now" <<'SQL'
select n.property_code, count(*) as room_nights, sum(n.revenue_net) as revenue_net,
       round(sum(n.revenue_net) / count(*), 2) as adr_net, min(n.currency) as currency
from facts.reservation_nights n
where n.is_current and n.status = 'confirmed'
  and n.business_date >= (:'now'::timestamptz)::date and n.business_date < (:'now'::timestamptz)::date + 14
group by 1 order by 1;
SQL
echo "== analyst query 2: what pricing reads (feeds.pricing_current_rates): cells, average price, drift status"
psql "$DATABASE_URL" -q -P pager=off <<'SQL'
select property_code, source, count(*) as cells, round(avg(price), 2) as avg_price, min(currency) as currency,
       max(drift_status) as drift_status
from feeds.pricing_current_rates group by 1, 2 order by 1, 2;
SQL
echo "== analyst query 3: what a retraining pipeline polls (feeds.retraining_signals)"
psql "$DATABASE_URL" -q -P pager=off <<'SQL'
select source, stream, property_code, round(psi, 4) as psi, psi_status, breaches_7d, should_retrain,
       array_to_string(reasons, '; ') as reasons
from feeds.retraining_signals order by 1, 2, 3;
SQL

echo
echo "== ota-ingest report: pace, revenue, the rate calendar, drift, pipeline health and PSI in one HTML file"
"$BIN/ota-ingest" report --out "$DEMO/report.html" --days 90

bash "$ROOT/scripts/sandbox.sh" stop
echo
echo "The report: $DEMO/report.html (open it in a browser; it needs no network)"
echo "Explore it: psql $DATABASE_URL   (or: make psql)"
# Exit 4 here means drift was found and could not be repaired (see the drift table).
exit "$status"
