#!/usr/bin/env bash
# Measures how many cursor-feed records per second ota-sandbox serves to one plain
# HTTP client (one keep-alive connection, pages of 5000, full traversals).
# Usage: scripts/bench-sandbox.sh [BIN_DIR] [PROPERTIES] [PASSES]
# BIN_DIR defaults to the release build (`swift build -c release --product ota-sandbox`).
set -euo pipefail
bin_dir=${1:-$(swift build -c release --show-bin-path)}
properties=${2:-50}
passes=${3:-5}
log=$(mktemp)
"$bin_dir/ota-sandbox" --port 0 --properties "$properties" --initial-bookings 0 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
    grep -q "listening on" "$log" && break
    sleep 0.1
done
base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$log")
[ -n "$base" ] || { echo "bench-sandbox: the sandbox did not start:"; cat "$log"; exit 1; }
python3 - "$base" "$passes" <<'PY'
import http.client, re, sys, time, urllib.parse
base, passes = sys.argv[1], int(sys.argv[2])
url = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(url.hostname, url.port)
headers = {"Authorization": "Bearer sandbox-token", "Accept": "application/json"}
cursor_re = re.compile(rb'"next_cursor":(?:"([^"]*)"|null)\}$')
rates = []
for _ in range(passes):
    records, size, query = 0, 0, "/v2/inventory?limit=5000"
    started = time.perf_counter()
    while True:
        conn.request("GET", query, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            sys.exit(f"bench-sandbox: HTTP {response.status}: {body[:200]!r}")
        records += body.count(b'{"id":')
        size += len(body)
        cursor = cursor_re.search(body).group(1)
        if cursor is None:
            break
        query = "/v2/inventory?limit=5000&cursor=" + cursor.decode()
    elapsed = time.perf_counter() - started
    rates.append(records / elapsed)
    print(f"pass: {records} records, {size / 1e6:.1f} MB in {elapsed:.3f} s = {records / elapsed:,.0f} records/s")
rates.sort()
print(f"bench-sandbox: median {rates[len(rates) // 2]:,.0f} records/s, best {rates[-1]:,.0f} records/s (target 250,000)")
PY
