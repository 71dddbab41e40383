#!/usr/bin/env bash
# `make bench-serve`: durable pushes per second through `ota-ingest serve`, driven by
# wrk at 64 connections for 30 s, beside a pgbench floor writing the same rows in the
# same batch sizes, one prepared insert per durable commit, over the same number of
# connections, on a PostgreSQL cluster of
# its own with durability ON (fsync and synchronous_commit at their defaults). Then
# OpenTravel XML reservation pushes through the same serve, beside the WebHotelier
# JSON pushes' rate, and signed rate updates; all with serve's default continuous
# promotion on. Last, the JSON pushes and the rate updates again with promotion off (store
# and answer only, like the FastAPI anchor): the anchor's 5x target is judged on these.
#
#   scripts/bench-serve.sh BIN_DIR [SECONDS] [CONNECTIONS]
set -euo pipefail
. "$(dirname "$0")/bench-common.sh"
BIN=${1:?usage: scripts/bench-serve.sh BIN_DIR [SECONDS] [CONNECTIONS]}
SECONDS_RUN=${2:-30}
CONNECTIONS=${3:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)"
    if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends wrk >/dev/null ||
        { "${sudo[@]}" apt-get update -q && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends wrk; }
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work=$(mktemp -d /tmp/ota-bench-serve.XXXXXX)
chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown postgres "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
    [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null || true
    as_owner "$PGBIN/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
as_owner "$PGBIN/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 >/dev/null
# Durable: fsync and synchronous_commit are left at their defaults (on).
as_owner "$PGBIN/pg_ctl" -D "$work/data" -l "$work/pg.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $work -c max_connections=200 -c shared_buffers=512MB -c max_wal_size=4GB" \
    start >/dev/null
url="host=127.0.0.1 port=$port dbname=postgres user=postgres"
"$BIN/ota-ingest" migrate --database-url "$url" >/dev/null

serve_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
secret="whsec_$(printf 'bench-signing-key' | base64)"
# The pushes are for HTL001: a property the receiver has no credentials for is answered 404.
cat >"$work/serve.toml" <<TOML
[sources.webhotelier]
kind = "webhotelier"
base_url = "http://127.0.0.1:9"
credentials_env_prefix = "BENCH_WH_"

# A channel manager's OpenTravel pushes (bare XML, Basic), beside WebHotelier's JSON.
[sources.bench_ot]
kind = "opentravel"
pull = false
push_username = "cm"
push_password_env = "BENCH_OT_PASSWORD"

[serve]
port = $serve_port
basic_username = "wh"
basic_password_env = "BENCH_PUSH_PASSWORD"
commit_connections = ${COMMIT_CONNECTIONS:-4}

[serve.signing.bench]
scheme = "standard"
secrets_env = ["BENCH_SIGNING_SECRET"]
TOML
base="http://127.0.0.1:$serve_port"
start_serve() {  # $1 config, $2 log
    BENCH_PUSH_PASSWORD=bench BENCH_OT_PASSWORD=bench-ot BENCH_SIGNING_SECRET="$secret" BENCH_WH_HTL001="bench:unused" \
        "$BIN/ota-ingest" serve --config "$1" --database-url "$url" >"$2" 2>&1 &
    serve_pid=$!
    for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
}
start_serve "$work/serve.toml" "$work/serve.log"

auth="Basic $(printf 'wh:bench' | base64)"
bench_push_lua "$work/push.lua" "$auth" 100000000

# One OpenTravel reservation per request (OTA_HotelResNotifRQ, a Commit of a two-night stay
# with a guest), a distinct Type-14 id each, so every push is a new durable insert.
ot_auth="Basic $(printf 'cm:bench-ot' | base64)"
{
    bench_lua_numbering 100000000
    cat <<LUA
request = function()
  local id = next_id()
  local body = string.format('<OTA_HotelResNotifRQ xmlns="http://www.opentravel.org/OTA/2003/05" ResStatus="Commit" EchoToken="e-%d" TimeStamp="2026-04-01T10:00:00Z"><HotelReservations><HotelReservation ResStatus="Commit" CreateDateTime="2026-04-01T10:00:00Z" LastModifyDateTime="2026-04-01T10:00:00Z"><UniqueID Type="14" ID="CM-%d"/><RoomStays><RoomStay><RoomRates><RoomRate RoomTypeCode="DBL" RatePlanCode="BAR"/></RoomRates><GuestCounts><GuestCount AgeQualifyingCode="10" Count="2"/></GuestCounts><TimeSpan Start="2026-05-01" End="2026-05-03"/><Total AmountAfterTax="180" CurrencyCode="EUR"/><BasicPropertyInfo HotelCode="HTL001"/></RoomStay></RoomStays><ResGuests><ResGuest><Profiles><ProfileInfo><Profile><Customer><PersonName><GivenName>Ada</GivenName><Surname>Guest</Surname></PersonName></Customer></Profile></ProfileInfo></Profiles></ResGuest></ResGuests></HotelReservation></HotelReservations></OTA_HotelResNotifRQ>', id, id)
  return wrk.format("POST", "/webhooks/opentravel/bench_ot", {["Content-Type"]="text/xml; charset=utf-8", ["Authorization"]="$ot_auth"}, body)
end
LUA
} >"$work/ot-push.lua"

# Standard Webhooks rate updates, signed ahead of each run (HMAC in wrk's Lua would take
# the same two cores), just before it, so the timestamps stay inside the 5-minute tolerance.
# Each run has message ids of its own ($1 names the run): a repeated id is answered without
# being stored again. Writes $work/rates$1.lua.
sign_rate_updates() {
    python3 - "$work" "$secret" 2 400000 "$1" <<'PY'
import base64, hashlib, hmac, sys, time
work, secret, threads, per_thread, run = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
key = base64.b64decode(secret[len("whsec_"):])
now = str(int(time.time()))
for t in range(threads):
    with open(f"{work}/signed{run}{t}.txt", "w") as out:
        for n in range(per_thread):
            mid = f"msg{run}_{t}_{n}"
            body = ('{"property_id":"HTL001","rate_plan_code":"%d","room_code":"DBL","base_rate":%d.50,'
                    '"currency":"EUR","effective_date":"2026-%02d-%02d","event_timestamp":"2026-01-01T10:05:00Z"}'
                    % (n % 40, 50 + n % 200, 1 + n % 12, 1 + n % 28))
            mac = hmac.new(key, f"{mid}.{now}.{body}".encode(), hashlib.sha256).digest()
            out.write(f"{mid}\t{now}\tv1,{base64.b64encode(mac).decode()}\t{body}\n")
PY
    cat >"$work/rates$1.lua" <<LUA
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
local lines = nil
request = function()
  if lines == nil then lines = io.lines("$work/signed$1" .. tid .. ".txt") end
  local line = lines()
  local id, ts, sig, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
  return wrk.format("POST", "/webhooks/ota/bench",
    {["Content-Type"]="application/json", ["webhook-id"]=id, ["webhook-timestamp"]=ts, ["webhook-signature"]=sig}, body)
end
LUA
}

run_wrk() {  # $1 lua script; prints "requests non2xx p50_ms p99_ms"
    local out
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s "$1" "$base")
    echo "$out" >>"$work/wrk.log"
    local requests non2xx p50 p99
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "$requests ${non2xx:-0} $p50 $p99"
}
to_ms() { python3 -c "import sys; v=sys.argv[1]; print(float(v[:-2]) if v.endswith('ms') else float(v[:-2])/1000 if v.endswith('us') else float(v[:-1])*1000)" "$1"; }

# The anchor, first (A, then ota-ingest B; make bench's passes alternate A B A B A B): the seed's
# FastAPI receiver made durable (scripts/anchors/fastapi-receiver/README.md pins the setup), on
# this cluster, in a database of its own, under the same wrk shape. Installed by make bench-anchors.
VENV=${ANCHORS_VENV:-$ROOT/.local/anchors-venv}
anchor_rate= anchor_p99=
if [ -x "$VENV/bin/uvicorn" ]; then
    psql -X -q "$url" -c "create database fastapi_anchor" >/dev/null
    anchor_url="host=127.0.0.1 port=$port dbname=fastapi_anchor user=postgres"
    psql -X -q "$anchor_url" -c "create table rate_update_events (id bigint generated always as identity primary key, property_id text not null, payload jsonb not null, received_at timestamptz not null default now())" >/dev/null
    anchor_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    anchor_versions=$("$VENV/bin/python" -c 'import fastapi, uvicorn, pydantic, psycopg; print(f"fastapi {fastapi.__version__}, uvicorn {uvicorn.__version__}, pydantic {pydantic.VERSION}, psycopg {psycopg.__version__}")')
    RECEIVER_DSN="$anchor_url" "$VENV/bin/uvicorn" app:app --app-dir "$ROOT/scripts/anchors/fastapi-receiver" \
        --host 127.0.0.1 --port "$anchor_port" --workers 2 --loop uvloop --http httptools --no-access-log \
        >"$work/anchor.log" 2>&1 &
    anchor_pid=$!
    for _ in $(seq 1 300); do
        curl -s -o /dev/null -X POST "http://127.0.0.1:$anchor_port/webhooks/ota/rate-update" && break
        sleep 0.1
    done
    psql -X -q "$url" -c checkpoint >/dev/null
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -s "$ROOT/scripts/anchors/fastapi-receiver/post.lua" \
        "http://127.0.0.1:$anchor_port/webhooks/ota/rate-update")
    echo "$out" >>"$work/wrk.log"
    kill "$anchor_pid"; wait "$anchor_pid" 2>/dev/null || true
    summary=$(echo "$out" | grep WRK_SUMMARY)
    field() { echo "$summary" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
    anchor_ok=$(( $(field requests) - $(field non2xx) ))
    anchor_rate=$(python3 -c "print(round($anchor_ok / ($(field duration_us) / 1e6)))")
    anchor_p50=$(python3 -c "print(round($(field p50_us) / 1000, 1))")
    anchor_p99=$(python3 -c "print(round($(field p99_us) / 1000, 1))")
    anchor_stored=$(psql -X "$anchor_url" -Atc "select count(*) from rate_update_events")
    echo "anchor: $anchor_versions: $anchor_rate durable req/s  p50 $anchor_p50 ms  p99 $anchor_p99 ms  (non-2xx $(field non2xx); rows stored $anchor_stored of $anchor_ok answered 2xx)"
else
    echo "anchor: the FastAPI receiver is not installed (make bench-anchors); this run has no anchor for serve"
fi

psql -X -q "$url" -c checkpoint >/dev/null
read -r push_requests push_bad push_p50 push_p99 < <(run_wrk "$work/push.lua")
psql -X -q "$url" -c checkpoint >/dev/null
read -r ot_requests ot_bad ot_p50 ot_p99 < <(run_wrk "$work/ot-push.lua")
sign_rate_updates ""
psql -X -q "$url" -c checkpoint >/dev/null
read -r rate_requests rate_bad rate_p50 rate_p99 < <(run_wrk "$work/rates.lua")
stored_pushes=$(psql "$url" -Atc "select count(*) from staging.reservation_events where source = 'webhotelier'")
# OpenTravel refusals are HTTP 200 with <Errors>, so the rate counts what was stored, not what wrk saw as 2xx.
stored_ot=$(psql "$url" -Atc "select count(*) from staging.reservation_events where source = 'bench_ot'")
stored_rates=$(psql "$url" -Atc "select count(*) from staging.rate_observations")
metrics=$(curl -s "$base/metrics")
batch_sum=$(echo "$metrics" | awk '/^ota_receiver_commit_batch_size_sum/ {print $2}')
batch_count=$(echo "$metrics" | awk '/^ota_receiver_commit_batch_size_count/ {print $2}')
batch=$(python3 -c "print(max(1, round($batch_sum / $batch_count)))")
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=

# The same pushes with continuous promotion off: serve only stores and answers, as the anchor
# does. The runs above keep serve's default (promotion on), which also turns every push into
# facts within a second on the same two cores.
sed 's/^commit_connections = .*/&\npromote = false/' "$work/serve.toml" >"$work/serve-off.toml"
start_serve "$work/serve-off.toml" "$work/serve-off.log"
# Bookings numbered apart from the run above (bench_push_lua says why).
bench_push_lua "$work/push-off.lua" "$auth" 1000000000
psql -X -q "$url" -c checkpoint >/dev/null
read -r off_requests off_bad off_p50 off_p99 < <(run_wrk "$work/push-off.lua")
sign_rate_updates off
psql -X -q "$url" -c checkpoint >/dev/null
read -r off_rate_requests off_rate_bad off_rate_p50 off_rate_p99 < <(run_wrk "$work/ratesoff.lua")
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=

# The floor: the least work the server must do for the same rows, durably, in the same
# batches: pgbench over the receiver's 4 commit connections, each durable commit one
# prepared insert of $batch bookings of the pushes' shape (as the receiver writes a group
# commit's rows in one statement), with nothing else (no receipt, no HTTP).
{
    echo "\\set id random(1, 1000000000000)"
    echo "BEGIN;"
    echo "SET LOCAL synchronous_commit = on;"
    echo "insert into staging.reservation_events (source, property_code, confirmation_id, event_type, origin, content_hash, raw, data, batch_id, run_id) select 'webhotelier', 'HTL001', (:id::bigint * 1000 + g)::text, 'new', 'push', encode(sha256(convert_to(d::text, 'UTF8')), 'hex'), convert_to(d::text, 'UTF8'), d, 'pgbench', 'pgbench' from generate_series(1, $batch) g, lateral (select jsonb_build_object('id', :id::bigint * 1000 + g, 'property', 'HTL001', 'status', 1, 'roomStay', jsonb_build_object('from', '2026-05-01', 'to', '2026-05-03'), 'bookInfo', jsonb_build_object('book_date', '2026-04-01T10:00:00Z')) d) x on conflict do nothing;"
    echo "COMMIT;"
} >"$work/floor.sql"
as_owner "$PGBIN/pgbench" -h 127.0.0.1 -p "$port" -U postgres -n -M prepared -c "${COMMIT_CONNECTIONS:-4}" -j 2 -T "$SECONDS_RUN" -f "$work/floor.sql" postgres \
    >"$work/pgbench.log" 2>&1 || { echo "bench-serve: pgbench failed:"; cat "$work/pgbench.log"; exit 1; }
tps=$(awk '/^tps/ {print $3}' "$work/pgbench.log")
floor=$(python3 -c "print(round($tps * $batch))")

push_rate=$(python3 -c "print(round(($push_requests - $push_bad) / $SECONDS_RUN))")
off_rate=$(python3 -c "print(round(($off_requests - $off_bad) / $SECONDS_RUN))")
rate_rate=$(python3 -c "print(round(($rate_requests - $rate_bad) / $SECONDS_RUN))")
off_rate_rate=$(python3 -c "print(round(($off_rate_requests - $off_rate_bad) / $SECONDS_RUN))")
ot_rate=$(python3 -c "print(round($stored_ot / $SECONDS_RUN))")
ratio=$(python3 -c "print(f'{$push_rate / $floor:.2f}')")
cat <<REPORT
bench-serve: wrk -t2 -c$CONNECTIONS -d${SECONDS_RUN}s, PostgreSQL with fsync and synchronous_commit on
  WebHotelier JSON PUSH, Basic auth:   $push_rate durable pushes/s  p50 $(to_ms "$push_p50") ms  p99 $(to_ms "$push_p99") ms  (non-2xx $push_bad; rows stored $stored_pushes)
  OpenTravel XML pushes, Basic auth:   $ot_rate durable pushes/s  p50 $(to_ms "$ot_p50") ms  p99 $(to_ms "$ot_p99") ms  (non-2xx $ot_bad; requests $ot_requests; rows stored $stored_ot)
  Standard Webhooks rate updates:      $rate_rate durable updates/s p50 $(to_ms "$rate_p50") ms  p99 $(to_ms "$rate_p99") ms  (non-2xx $rate_bad; rows stored $stored_rates)
  floor: pgbench, ${COMMIT_CONNECTIONS:-4} connections, one prepared insert of $batch rows per durable commit (the receiver's mean batch): $floor rows/s
  ratio pushes/floor: $ratio   (targets: >= 10000/s, p99 < 50 ms, ratio >= 0.5)
  WebHotelier JSON PUSH, promotion off: $off_rate durable pushes/s  p50 $(to_ms "$off_p50") ms  p99 $(to_ms "$off_p99") ms  (non-2xx $off_bad; store and answer only, as the anchor)
  rate updates, promotion off:          $off_rate_rate durable updates/s p50 $(to_ms "$off_rate_p50") ms  p99 $(to_ms "$off_rate_p99") ms  (non-2xx $off_rate_bad)
REPORT
bench_record "durable JSON pushes/s through serve" "$push_rate" pushes/s \
    "pgbench: the same rows, one prepared insert per durable commit, over as many connections" "$floor" "ratio>=0.5"
bench_record "JSON push p99 latency" "$(to_ms "$push_p99")" ms "" "" "value<50"
bench_record "JSON push p50 latency" "$(to_ms "$push_p50")" ms
bench_record "durable JSON pushes/s, absolute" "$push_rate" pushes/s "" "" "value>=10000"
bench_record "durable OpenTravel reservation pushes/s through serve" "$ot_rate" pushes/s \
    "WebHotelier JSON pushes/s through the same serve in the same run" "$push_rate"
bench_record "OpenTravel push p99 latency" "$(to_ms "$ot_p99")" ms
bench_record "durable signed rate updates/s through serve" "$rate_rate" updates/s "the same pgbench floor" "$floor"
bench_record "signed rate update p99 latency" "$(to_ms "$rate_p99")" ms
if [ -n "$anchor_rate" ]; then
    anchor_name="the seed's FastAPI receiver, durable ($anchor_versions; wrk -t2 -c$CONNECTIONS)"
    # Judged like for like: the anchor stores and answers, and so does serve with promotion off.
    # With promotion on (serve's default) the same cores also turn every request into facts;
    # those figures stand beside the anchor too, without a target (docs/receiver.md).
    bench_record "durable JSON pushes/s, store and answer (promotion off), beside the FastAPI anchor" "$off_rate" req/s "$anchor_name" "$anchor_rate" "ratio>=5"
    bench_record "durable signed rate updates/s, store and answer (promotion off), beside the FastAPI anchor" "$off_rate_rate" req/s "$anchor_name" "$anchor_rate" "ratio>=5"
    bench_record "JSON push p99, promotion off, beside the FastAPI anchor's p99" "$(to_ms "$off_p99")" ms "$anchor_name" "$anchor_p99" "ratio<=0.5"
    bench_record "signed rate update p99, promotion off, beside the FastAPI anchor's p99" "$(to_ms "$off_rate_p99")" ms "$anchor_name" "$anchor_p99" "ratio<=0.5"
    bench_record "durable JSON pushes/s with promotion on (stored, answered and promoted) beside the FastAPI anchor" "$push_rate" req/s "$anchor_name" "$anchor_rate"
    bench_record "durable signed rate updates/s with promotion on beside the FastAPI anchor" "$rate_rate" req/s "$anchor_name" "$anchor_rate"
    bench_record "JSON push p99, promotion on, beside the FastAPI anchor's p99" "$(to_ms "$push_p99")" ms "$anchor_name" "$anchor_p99"
    echo "  ratios to the FastAPI anchor, store and answer (promotion off): pushes $(python3 -c "print(f'{$off_rate / $anchor_rate:.2f}')")x, rate updates $(python3 -c "print(f'{$off_rate_rate / $anchor_rate:.2f}')")x (target >= 5x); p99 $(python3 -c "print(f'{$(to_ms "$off_p99") / $anchor_p99:.2f}')")x and $(python3 -c "print(f'{$(to_ms "$off_rate_p99") / $anchor_p99:.2f}')")x of the anchor's (target <= 0.5x)"
    echo "  with promotion on (serve's default): pushes $(python3 -c "print(f'{$push_rate / $anchor_rate:.2f}')")x, rate updates $(python3 -c "print(f'{$rate_rate / $anchor_rate:.2f}')")x; p99 $(python3 -c "print(f'{$(to_ms "$push_p99") / $anchor_p99:.2f}')")x and $(python3 -c "print(f'{$(to_ms "$rate_p99") / $anchor_p99:.2f}')")x of the anchor's"
fi
bench_record "non-2xx answers under load" "$((push_bad + ot_bad + rate_bad + off_bad + off_rate_bad))" answers "" "" "value<=0"
