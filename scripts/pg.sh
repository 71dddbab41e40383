#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for `make demo` and `make test`.
#
#   scripts/pg.sh start | stop | status | reset | env
#
# A normal user keeps the cluster in .local/pg. initdb refuses to run as root,
# and a checkout inside root's home is not readable by the postgres user, so as
# root the cluster lives in a temporary directory owned by postgres. Either way
# .local/pg.env records where it is and how to reach it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE="$ROOT/.local"
ENVFILE="$STATE/pg.env"
DBNAME=ota_ingest

find_pgbin() {
    if [ -n "${PGBIN:-}" ]; then echo "$PGBIN"; return; fi
    # Debian keeps initdb and pg_ctl in the server package's own bin directory.
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
        echo "pg.sh: no PostgreSQL server found under /usr/lib/postgresql; fix: apt-get install postgresql" >&2
        exit 1
    fi
    echo "$d"
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
    local p
    for p in $(seq 55432 55532); do
        if port_free "$p"; then echo "$p"; return; fi
    done
    echo "pg.sh: no free loopback port in 55432-55532; fix: stop other servers or set PGPORT" >&2
    exit 1
}

running() {
    [ -f "$ENVFILE" ] || return 1
    # shellcheck disable=SC1090
    . "$ENVFILE"
    [ -d "${PGDATA:-/nonexistent}" ] || return 1
    as_owner "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

start() {
    PGBIN=$(find_pgbin)
    mkdir -p "$STATE"
    if running; then
        echo "PostgreSQL already running: $DATABASE_URL"
        return
    fi
    local data port
    if [ -f "$ENVFILE" ]; then . "$ENVFILE"; fi
    data=${PGDATA:-}
    if [ -z "$data" ] || [ ! -f "$data/PG_VERSION" ]; then
        if [ "$(id -u)" = 0 ]; then
            data=$(mktemp -d /tmp/ota-ingest-pg.XXXXXX)
            chown postgres:postgres "$data"
        else
            data="$STATE/pg"
            mkdir -p "$data"
        fi
        chmod 700 "$data"
        as_owner "$PGBIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
    fi
    port=${PGPORT_WANTED:-$(pick_port)}
    # Throwaway cluster: durability settings off for speed, loopback only.
    as_owner "$PGBIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500 -c shared_buffers=512MB -c max_wal_size=4GB" \
        start >/dev/null
    local admin="postgresql://postgres@127.0.0.1:$port/postgres"
    if ! psql "$admin" -Atqc "select 1 from pg_database where datname = '$DBNAME'" | grep -q 1; then
        psql "$admin" -qc "create database $DBNAME" >/dev/null
    fi
    cat >"$ENVFILE" <<ENV
PGBIN=$PGBIN
PGDATA=$data
PGPORT=$port
DATABASE_URL=postgresql://postgres@127.0.0.1:$port/$DBNAME
OTA_TEST_ADMIN_URL=$admin
ENV
    echo "PostgreSQL started: postgresql://postgres@127.0.0.1:$port/$DBNAME (data in $data)"
}

stop() {
    PGBIN=$(find_pgbin)
    if running; then
        as_owner "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
        echo "PostgreSQL stopped"
    else
        echo "PostgreSQL not running"
    fi
}

reset() {
    stop
    if [ -f "$ENVFILE" ]; then
        . "$ENVFILE"
        case "$PGDATA" in
            /tmp/ota-ingest-pg.*|"$STATE"/pg) rm -rf "$PGDATA" ;;
        esac
        rm -f "$ENVFILE"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    reset) reset ;;
    status) PGBIN=$(find_pgbin); if running; then echo "running: $DATABASE_URL"; else echo "not running"; exit 1; fi ;;
    *) echo "usage: scripts/pg.sh start|stop|status|reset" >&2; exit 2 ;;
esac
