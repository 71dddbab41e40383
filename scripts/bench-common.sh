# Sourced by scripts/bench-*.sh: the setup every benchmark shares, and the one
# way a figure reaches `make bench`'s report.
#
# A benchmark run alone prints its lines and records nothing. Under
# scripts/bench.sh, BENCH_RECORD names a TSV file and each figure is appended
# to it with the pass, the benchmark's name and its scale, so the report can
# take medians over passes and compare scales.

bench_now() { date +%s.%N; }
bench_elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# bench_record FIGURE VALUE UNIT [ANCHOR ANCHOR_VALUE] [TARGET]
#   FIGURE   what was measured, the same text in every pass
#   ANCHOR   the floor or anchor measured in the same run, in the same unit;
#            the report's ratio is VALUE / ANCHOR_VALUE
#   TARGET   "ratio<=1.5", "ratio>=0.7", "value<256" or "value>=10000"
bench_record() {
    [ -n "${BENCH_RECORD:-}" ] || return 0
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${BENCH_PASS:-1}" "${BENCH_NAME:?bench_record: BENCH_NAME unset}" \
        "${BENCH_SCALE:-1}" "$1" "$2" "$3" "${4:-}" "${5:-}" "${6:-}" >>"$BENCH_RECORD"
}

# bench_db_url NAME: the URL of database NAME on $DATABASE_URL's server.
bench_db_url() {
    python3 -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(u.urlunparse(p._replace(path="/" + sys.argv[2])))' \
        "${DATABASE_URL:?DATABASE_URL is not set; fix: make db-start, then set -a; . .local/pg.env}" "$1"
}

# bench_fresh_db NAME BIN_DIR: drops and creates database NAME, migrates it with
# BIN_DIR's ota-ingest (and distributes it on a cluster), prints its URL. The
# caller's EXIT trap drops it (bench_drop_db).
bench_fresh_db() {
    local url
    url=$(bench_db_url "$1")
    bench_create_db "$DATABASE_URL" "$1" >/dev/null
    "$2/ota-ingest" migrate --database-url "$url" >/dev/null
    BENCH_BIN=${BENCH_BIN:-$2} bench_distribute "$url"
    echo "$url"
}

# bench_start_sandbox BIN_DIR LOG [ota-sandbox options...]: starts ota-sandbox on a
# free port; sets BENCH_SANDBOX_PID and BENCH_SANDBOX_URL. Waits on its
# "listening on" line, not on a sleep.
bench_start_sandbox() {
    local bin=$1 log=$2
    shift 2
    "$bin/ota-sandbox" --port 0 "$@" >"$log" 2>&1 &
    BENCH_SANDBOX_PID=$!
    for _ in $(seq 1 600); do
        grep -q "listening on" "$log" && break
        kill -0 "$BENCH_SANDBOX_PID" 2>/dev/null || break
        sleep 0.1
    done
    BENCH_SANDBOX_URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$log")
    [ -n "$BENCH_SANDBOX_URL" ] || { echo "bench: the sandbox did not start:" >&2; cat "$log" >&2; return 1; }
}

# The same benchmark on a Citus cluster (scripts/bench-citus.sh): BENCH_CITUS_ENV names the
# cluster's address file (.local/citus.env, written by scripts/citus-cluster.sh) and BENCH_BIN
# the ota-ingest that distributes. A scratch database is then made on every node, with the
# extension and the workers registered in it (Citus keeps its metadata per database), and
# bench_distribute places the migrated tables as sql/citus/layout.sql says. Unset (one
# server), bench_create_db and bench_drop_db work on $1's server alone and bench_distribute
# does nothing.

# bench_create_db ADMIN_URL NAME: drops and creates database NAME.
bench_create_db() {
    local admin=$1 name=$2 port ports
    if [ -z "${BENCH_CITUS_ENV:-}" ]; then
        psql "$admin" -X -q -c "drop database if exists $name with (force)" -c "create database $name"
        return
    fi
    read -r -a ports < <(. "$BENCH_CITUS_ENV" && echo "$CITUS_PORTS")
    for port in "${ports[@]}"; do
        psql "postgresql://postgres@127.0.0.1:$port/postgres" -X -q \
            -c "drop database if exists $name with (force)" -c "create database $name"
        psql "postgresql://postgres@127.0.0.1:$port/$name" -X -q -c "create extension citus"
    done
    psql "postgresql://postgres@127.0.0.1:${ports[0]}/$name" -X -q -At \
        -c "select citus_set_coordinator_host('127.0.0.1', ${ports[0]})" \
        -c "select citus_add_node('127.0.0.1', ${ports[1]})" \
        -c "select citus_add_node('127.0.0.1', ${ports[2]})" >/dev/null
}

# bench_drop_db ADMIN_URL NAME: drops database NAME (on every node of a cluster).
bench_drop_db() {
    local admin=$1 name=$2 port ports
    if [ -z "${BENCH_CITUS_ENV:-}" ]; then
        psql "$admin" -X -q -c "drop database if exists $name with (force)"
        return
    fi
    read -r -a ports < <(. "$BENCH_CITUS_ENV" && echo "$CITUS_PORTS")
    for port in "${ports[@]}"; do
        psql "postgresql://postgres@127.0.0.1:$port/postgres" -X -q -c "drop database if exists $name with (force)"
    done
}

# bench_distribute URL: on a cluster, `ota-ingest distribute` of the migrated warehouse at URL.
bench_distribute() {
    [ -n "${BENCH_CITUS_ENV:-}" ] || return 0
    "${BENCH_BIN:?bench_distribute: BENCH_BIN unset}/ota-ingest" distribute --database-url "$1" >/dev/null
}

# bench_free_port: a TCP port free on 127.0.0.1 now.
bench_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# bench_durable_cluster NAME: starts a PostgreSQL cluster of its own, fsync and
# synchronous_commit at their defaults (on), in a new directory; sets BENCH_WORK (the
# directory, also for the caller's files), BENCH_PG_PORT and BENCH_PG_URL; BENCH_PG_OPTIONS
# adds server settings (-c name=value ...). The caller's
# EXIT trap runs bench_durable_cluster_stop, which also kills $BENCH_CLEANUP_PIDS.
bench_durable_cluster() {
    BENCH_PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    BENCH_WORK=$(mktemp -d "/tmp/ota-bench-$1.XXXXXX")
    chmod 755 "$BENCH_WORK"
    [ "$(id -u)" = 0 ] && chown postgres "$BENCH_WORK"
    BENCH_PG_PORT=$(bench_free_port)
    bench_as_owner "$BENCH_PGBIN/initdb" -D "$BENCH_WORK/data" -U postgres --auth=trust -E UTF8 >/dev/null
    bench_as_owner "$BENCH_PGBIN/pg_ctl" -D "$BENCH_WORK/data" -l "$BENCH_WORK/pg.log" -w \
        -o "-p $BENCH_PG_PORT -c listen_addresses=127.0.0.1 -k $BENCH_WORK -c max_connections=200 -c shared_buffers=512MB -c max_wal_size=4GB ${BENCH_PG_OPTIONS:-}" \
        start >/dev/null
    BENCH_PG_URL="host=127.0.0.1 port=$BENCH_PG_PORT dbname=postgres user=postgres"
}
bench_durable_cluster_stop() {
    local pid
    for pid in ${BENCH_CLEANUP_PIDS:-}; do kill "$pid" 2>/dev/null || true; done
    for pid in ${BENCH_CLEANUP_PIDS:-}; do wait "$pid" 2>/dev/null || true; done
    bench_as_owner "$BENCH_PGBIN/pg_ctl" -D "$BENCH_WORK/data" -m immediate -w stop >/dev/null 2>&1 || true
    # BENCH_KEEP=1 keeps the folder (the server's log, the serve log) to look into.
    [ -n "${BENCH_KEEP:-}" ] && { echo "bench: kept $BENCH_WORK" >&2; return; }
    rm -rf "$BENCH_WORK"
}
# initdb refuses root: the cluster belongs to postgres when run as root.
bench_as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# The start of a wrk script whose requests each take a new number from next_id(), counted
# from $1 with each thread 100,000,000 apart, so every request is a new durable insert.
bench_lua_numbering() { # $1 first number
    cat <<LUA
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
local n = 0
local function next_id() n = n + 1; return $1 + tid * 100000000 + n end
LUA
}

# A wrk script of WebHotelier JSON pushes (Basic auth): a distinct new booking per request,
# numbered from $3 (each thread 100,000,000 apart), so every push is a new durable insert.
# Runs against the same cluster take bases far apart (100000000, 1000000000): a booking
# pushed again with the same content is stored as nothing and would measure a no-op.
bench_push_lua() { # $1 file, $2 Authorization header value, $3 first booking number
    {
        bench_lua_numbering "$3"
        cat <<LUA
request = function()
  local id = next_id()
  local body = string.format('{"id":%d,"type":"new","data":{"id":%d,"property":"HTL001","status":1,"roomStay":{"from":"2026-05-01","to":"2026-05-03"},"bookInfo":{"book_date":"2026-04-01T10:00:00Z"}}}', id, id)
  return wrk.format("POST", "/webhooks/webhotelier", {["Content-Type"]="application/json", ["Authorization"]="$2"}, body)
end
LUA
    } >"$1"
}
