#!/usr/bin/env bash
# The main job against the throwaway database and a local OTA sandbox: called by
# `make demo` with the release binaries' directory and DATABASE_URL set.
#
# It configures ota-ingest the way a deployment would (a TOML file plus a
# credentials directory with one file per property), lets a simulated day pass
# at the sandbox, and runs the pulls.
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
echo "== ota-sandbox: a local OTA with 5 properties"
bash "$ROOT/scripts/sandbox.sh" stop
bash "$ROOT/scripts/sandbox.sh" start "$BIN" --seed 1 --properties 5 --min-interval 5
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
cat >"$DEMO/ota-ingest.toml" <<TOML
[sources.webhotelier]
kind = "webhotelier"
base_url = "$OTA_SANDBOX_URL"
credentials_dir = "$DEMO/credentials"
stay_window_days = 365
# A local sandbox can take more than WebHotelier's polite default of 5 requests/s.
requests_per_second = 100
burst = 100

[sources.sandbox-feed]
kind = "cursor"
base_url = "$OTA_SANDBOX_URL/v2"
token_env = "OTA_SANDBOX_TOKEN"
page_size = 5000
requests_per_second = 50
burst = 50
TOML
export OTA_INGEST_CONFIG="$DEMO/ota-ingest.toml" OTA_SANDBOX_TOKEN

advance() { curl -fsS -X POST "$OTA_SANDBOX_URL/_sandbox/advance?minutes=$1" >/dev/null; }
sandbox_now() { curl -fsS "$OTA_SANDBOX_URL/_sandbox/clock" | sed -n 's/.*"now":"\([^"]*\)".*/\1/p'; }

status=0
for day in 1 2; do
    advance 1440
    now=$(sandbox_now)
    echo
    echo "== day $day at the OTA ($now): ota-ingest pull reservations / rates / inventory"
    "$BIN/ota-ingest" pull reservations --now "$now" || status=$?
    "$BIN/ota-ingest" pull rates --now "$now" || status=$?
    "$BIN/ota-ingest" pull inventory --now "$now" || status=$?
done

echo
echo "== ota-ingest seed && ota-ingest transform: staging -> versioned facts"
"$BIN/ota-ingest" seed --dir "$ROOT/seeds" || status=$?
"$BIN/ota-ingest" transform || status=$?

echo
echo "== the warehouse"
psql "$DATABASE_URL" -q -P pager=off <<'SQL'
select 'staging.reservation_events' as "table", count(*) as rows from staging.reservation_events
union all select 'staging.availability_observations', count(*) from staging.availability_observations
union all select 'staging.rate_observations', count(*) from staging.rate_observations
union all select 'facts.reservations (versions)', count(*) from facts.reservations
union all select 'facts.availability (versions)', count(*) from facts.availability
union all select 'facts.rates (versions)', count(*) from facts.rates
union all select 'ops.dead_letters', count(*) from ops.dead_letters;
select command, status, counts->>'records' as records, counts->>'landed' as landed,
       counts->>'dead_letters' as dead_letters, counts->>'elapsed_ms' as ms
from ops.runs order by started_at;
SQL
bash "$ROOT/scripts/sandbox.sh" stop
echo
echo "Explore it: psql $DATABASE_URL   (or make psql for the ota_ingest database)"
# Dead letters are expected here only if the sandbox was told to serve malformed records.
exit "$status"
