#!/usr/bin/env python3
"""The load generator of `make bench-freshness`: offers a fixed rate of WebHotelier JSON
pushes (Basic auth) and Standard Webhooks signed rate updates over N properties, on
keep-alive connections (asyncio, plain HTTP/1.1), and records when each was answered. It
runs `ota-ingest watch` beside it and records when each announcement on ota_ingest_facts
arrived: a request answered at t is visible in facts once an announcement whose horizon is
at or after t has arrived. Writes the percentiles of answered -> visible as JSON."""
import argparse, asyncio, base64, hashlib, hmac, json, subprocess, sys, threading, time
from datetime import datetime

p = argparse.ArgumentParser()
p.add_argument("--base", required=True)
p.add_argument("--rate", type=float, required=True)
p.add_argument("--seconds", type=float, required=True)
p.add_argument("--properties", type=int, default=50)
p.add_argument("--connections", type=int, default=64)
p.add_argument("--auth", required=True)
p.add_argument("--secret", required=True)
p.add_argument("--database-url", required=True)
p.add_argument("--watch", required=True, help="the ota-ingest binary")
p.add_argument("--out", required=True)
a = p.parse_args()

host, port = a.base.split("//")[1].split(":")
port = int(port)
key = base64.b64decode(a.secret[len("whsec_"):])

# The LISTEN client, started first and waited for (its session in pg_stat_activity).
watch = subprocess.Popen([a.watch, "watch", "--database-url", a.database_url], stdout=subprocess.PIPE, bufsize=0)
announcements = []  # (arrived, horizon)
def read_watch():
    for line in watch.stdout:
        arrived = time.time()
        try:
            horizon = json.loads(line).get("horizon")
        except ValueError:
            continue
        if horizon:
            announcements.append((arrived, datetime.fromisoformat(horizon.replace("Z", "+00:00")).timestamp()))
threading.Thread(target=read_watch, daemon=True).start()
for _ in range(200):
    out = subprocess.run(["psql", "-X", a.database_url, "-Atc",
                          "select count(*) from pg_stat_activity where application_name = 'ota-ingest watch'"],
                         capture_output=True, text=True).stdout.strip()
    if out == "1":
        break
    time.sleep(0.05)

def request(n):
    prop = "HTL%03d" % (1 + n % a.properties)
    if n % 4 == 3:
        body = ('{"property_id":"%s","rate_plan_code":"%d","room_code":"DBL","base_rate":%d.50,"currency":"EUR",'
                '"effective_date":"2026-%02d-%02d","event_timestamp":"%s"}'
                % (prop, n % 40, 50 + n % 200, 1 + n % 12, 1 + n % 28,
                   datetime.utcfromtimestamp(time.time()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
        mid, ts = "msg_%d" % n, str(int(time.time()))
        sig = base64.b64encode(hmac.new(key, f"{mid}.{ts}.{body}".encode(), hashlib.sha256).digest()).decode()
        headers = f"webhook-id: {mid}\r\nwebhook-timestamp: {ts}\r\nwebhook-signature: v1,{sig}\r\n"
        path = "/webhooks/ota/bench"
    else:
        body = ('{"id":%d,"type":"new","data":{"id":%d,"property":"%s","status":1,"roomStay":{"from":"2026-05-01",'
                '"to":"2026-05-03"},"bookInfo":{"book_date":"%s"}}}'
                % (n, n, prop, datetime.utcfromtimestamp(time.time()).strftime("%Y-%m-%dT%H:%M:%SZ")))
        headers = f"Authorization: {a.auth}\r\n"
        path = "/webhooks/webhotelier"
    data = body.encode()
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{headers}"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data

answered = []  # answer times of the 200s
failed = 0
start = time.time() + 0.5
total = int(a.rate * a.seconds)

async def connection(index):
    global failed
    reader, writer = await asyncio.open_connection(host, port)
    n = index
    while n < total:
        due = start + n / a.rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        writer.write(request(1_000_000_000 + n))
        status = int((await reader.readline()).split()[1])
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
        if status == 200:
            answered.append(time.time())
        else:
            failed += 1
        n += a.connections
    writer.close()

async def main():
    await asyncio.gather(*(connection(i) for i in range(a.connections)))
asyncio.run(main())
finished = time.time()

# Every answer must become visible: wait (bounded) for an announcement after the last one.
last = max(answered) if answered else finished
deadline = time.time() + 30
while time.time() < deadline and not any(h >= last for _, h in announcements):
    time.sleep(0.05)
watch.terminate()

# For each answer, the first announcement (in arrival order) whose horizon covers it.
events = sorted(announcements)
latencies, unseen = [], 0
import bisect
horizons_max = []  # running max of horizon by arrival, so bisect finds the first covering one
m = float("-inf")
for _, h in events:
    m = max(m, h)
    horizons_max.append(m)
for t in sorted(answered):
    i = bisect.bisect_left(horizons_max, t)
    if i == len(events):
        unseen += 1
    else:
        latencies.append((events[i][0] - t) * 1000)
latencies.sort()
def pct(q):
    return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else None
json.dump({"events": len(answered), "failed": failed, "not_visible": unseen,
           "achieved_rate": round(len(answered) / (finished - start), 1),
           "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
           "max_ms": round(latencies[-1], 1) if latencies else None}, open(a.out, "w"))
