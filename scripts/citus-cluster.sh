#!/usr/bin/env bash
# A throwaway three-node Citus cluster on loopback: a coordinator and two
# workers, each its own initdb directory and free port, with
# shared_preload_libraries = citus and the workers registered. For
# `make bench` and for poking around; the tests start their own (CitusCluster
# in Tests/TestSupport) the same way.
#
#   scripts/citus-cluster.sh start | stop | status | env
#
# .local/citus.env records the coordinator's address (DATABASE_URL) and each
# node's data directory. Needs Citus installed for the server (`make citus`).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE="$ROOT/.local"
ENVFILE="$STATE/citus.env"
DBNAME=ota_ingest

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Below the kernel's ephemeral range, so no outgoing connection holds the port.
pick_port() {
    local p
    for p in $(seq "$1" $(($1 + 200))); do
        if port_free "$p"; then echo "$p"; return; fi
    done
    echo "citus-cluster.sh: no free loopback port from $1; fix: stop other servers" >&2
    exit 1
}

node_running() { as_owner "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1; }

start() {
    if [ ! -f "$("$PGBIN/pg_config" --pkglibdir 2>/dev/null || pg_config --pkglibdir)/citus.so" ]; then
        echo "citus-cluster.sh: Citus is not installed for this server; fix: make citus" >&2
        exit 1
    fi
    mkdir -p "$STATE"
    if [ -f "$ENVFILE" ]; then
        . "$ENVFILE"
        if node_running "$CITUS_DATA0" && node_running "$CITUS_DATA1" && node_running "$CITUS_DATA2"; then
            echo "Citus cluster already running: $DATABASE_URL"
            return
        fi
        stop >/dev/null
    fi
    local base i data port ports=() dirs=() next=45432
    base=$(mktemp -d /tmp/ota-citus.XXXXXX)
    chmod 755 "$base"
    for i in 0 1 2; do
        data="$base/node$i"
        mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
        chmod 700 "$data"
        as_owner "$PGBIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync >/dev/null
        port=$(pick_port "$next")
        next=$((port + 1))
        # Throwaway: durability off for speed; max_prepared_transactions for
        # Citus's two-phase commit of multi-node writes.
        as_owner "$PGBIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
            -o "-p $port -c listen_addresses=127.0.0.1 -k $data -c shared_preload_libraries=citus -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c max_prepared_transactions=300 -c shared_buffers=256MB -c max_wal_size=4GB" \
            start >/dev/null
        psql "postgresql://postgres@127.0.0.1:$port/postgres" -qc "create database $DBNAME" >/dev/null
        psql "postgresql://postgres@127.0.0.1:$port/$DBNAME" -qc "create extension citus" >/dev/null
        ports+=("$port")
        dirs+=("$data")
    done
    local coordinator="postgresql://postgres@127.0.0.1:${ports[0]}/$DBNAME"
    psql "$coordinator" -qAt >/dev/null <<SQL
select citus_set_coordinator_host('127.0.0.1', ${ports[0]});
select citus_add_node('127.0.0.1', ${ports[1]});
select citus_add_node('127.0.0.1', ${ports[2]});
SQL
    cat >"$ENVFILE" <<ENV
CITUS_DIR=$base
CITUS_DATA0=${dirs[0]}
CITUS_DATA1=${dirs[1]}
CITUS_DATA2=${dirs[2]}
CITUS_PORTS="${ports[*]}"
DATABASE_URL=$coordinator
OTA_TEST_ADMIN_URL=postgresql://postgres@127.0.0.1:${ports[0]}/postgres
ENV
    echo "Citus cluster started: coordinator $coordinator, workers on ports ${ports[1]} and ${ports[2]}"
}

stop() {
    [ -f "$ENVFILE" ] || { echo "Citus cluster not running"; return; }
    . "$ENVFILE"
    local d
    for d in "$CITUS_DATA0" "$CITUS_DATA1" "$CITUS_DATA2"; do
        node_running "$d" && as_owner "$PGBIN/pg_ctl" -D "$d" -m fast -w stop >/dev/null || true
    done
    case "$CITUS_DIR" in /tmp/ota-citus.*) rm -rf "$CITUS_DIR" ;; esac
    rm -f "$ENVFILE"
    echo "Citus cluster stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if [ -f "$ENVFILE" ] && . "$ENVFILE" && node_running "$CITUS_DATA0"; then echo "running: $DATABASE_URL"; else echo "not running"; exit 1; fi ;;
    env) cat "$ENVFILE" ;;
    *) echo "usage: scripts/citus-cluster.sh start|stop|status|env" >&2; exit 2 ;;
esac
