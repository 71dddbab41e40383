#!/usr/bin/env bash
# Starts or stops a background ota-sandbox on a free loopback port, for `make demo`
# and people poking around. `start` writes .local/sandbox.env (OTA_SANDBOX_URL,
# OTA_SANDBOX_PID, OTA_SANDBOX_TOKEN); clients read their accounts from
# $OTA_SANDBOX_URL/_sandbox/accounts.
# Usage: scripts/sandbox.sh start BIN_DIR [ota-sandbox options...] | stop
set -euo pipefail
env_file=.local/sandbox.env
mkdir -p .local
case "${1:-}" in
start)
    bin_dir=${2:?usage: scripts/sandbox.sh start BIN_DIR [options]}
    shift 2
    if [ -f "$env_file" ] && kill -0 "$(. "$env_file"; echo "$OTA_SANDBOX_PID")" 2>/dev/null; then
        echo "ota-sandbox already running: $(. "$env_file"; echo "$OTA_SANDBOX_URL")"
        exit 0
    fi
    log=.local/sandbox.log
    nohup "$bin_dir/ota-sandbox" --port 0 "$@" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        grep -q "listening on" "$log" && break
        kill -0 "$pid" 2>/dev/null || { echo "ota-sandbox failed to start:"; cat "$log"; exit 1; }
        sleep 0.1
    done
    url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$log")
    [ -n "$url" ] || { echo "ota-sandbox did not report its URL:"; cat "$log"; exit 1; }
    printf 'OTA_SANDBOX_URL=%s\nOTA_SANDBOX_PID=%s\nOTA_SANDBOX_TOKEN=sandbox-token\n' "$url" "$pid" >"$env_file"
    echo "ota-sandbox running at $url (pid $pid); accounts: $url/_sandbox/accounts"
    ;;
stop)
    [ -f "$env_file" ] || exit 0
    pid=$(. "$env_file"; echo "$OTA_SANDBOX_PID")
    kill "$pid" 2>/dev/null || true
    rm -f "$env_file"
    ;;
*)
    echo "usage: scripts/sandbox.sh start BIN_DIR [ota-sandbox options...] | stop" >&2
    exit 2
    ;;
esac
