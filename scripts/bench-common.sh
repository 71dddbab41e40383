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
# BIN_DIR's ota-ingest, prints its URL. The caller's EXIT trap drops it.
bench_fresh_db() {
    local url
    url=$(bench_db_url "$1")
    psql -X -q "$DATABASE_URL" -c "drop database if exists $1 with (force)" -c "create database $1" >/dev/null
    "$2/ota-ingest" migrate --database-url "$url" >/dev/null
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
