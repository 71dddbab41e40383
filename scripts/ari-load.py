#!/usr/bin/env python3
"""The load generator of the ARI part of `make bench`: pushes OpenTravel availability and
rate messages (bare XML, Basic auth) to `ota-ingest serve` over keep-alive connections and
measures how fast they become durable cells: from the first request sent until every
message is answered <Success/> AND expanded into staging.ari_observations (the expansion
runs after the answer, in serve). Two phases, each on its own:

  flush    per property, one OTA_HotelAvailNotifRQ (a booking limit and a minimum stay
           for every rate plan over DAYS nights, in runs of 7) and one
           OTA_HotelRateAmountNotifRQ (prices for 1 and 2 guests, or 1 in a single room)
  deltas   DELTAS small messages, each one field (a booking limit, a minimum stay, a
           closing or a price) over 7 nights of one rate plan

Prints one JSON object per phase: messages, cells (rows the phase added to
staging.ari_observations), seconds, and the arrival range of its messages."""
import argparse, base64, http.client, json, queue, subprocess, threading, time
from datetime import date, timedelta

p = argparse.ArgumentParser()
p.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
p.add_argument("--source", required=True)
p.add_argument("--user", required=True)
p.add_argument("--password", required=True)
p.add_argument("--database-url", required=True)
p.add_argument("--properties", type=int, default=10)
p.add_argument("--days", type=int, default=750)
p.add_argument("--deltas", type=int, default=2000)
p.add_argument("--connections", type=int, default=8)
a = p.parse_args()

host, port = a.base.split("//")[1].split(":")
path = f"/webhooks/opentravel/{a.source}/ari"
auth = "Basic " + base64.b64encode(f"{a.user}:{a.password}".encode()).decode()
NS = "http://www.opentravel.org/OTA/2003/05"
FIRST = date(2027, 1, 1)


def psql(sql):
    return subprocess.run(["psql", "-X", "-At", a.database_url, "-c", sql], capture_output=True, text=True,
                          check=True).stdout.strip()


plans = {}
for line in psql("select p.property_code, p.rate_id, p.room_code, least(coalesce(r.max_adults, 2), 2) "
                 "from dims.rate_plans p join dims.rooms r using (property_code, room_code) "
                 "where not p.auto_registered order by 1, 2").splitlines():
    prop, rate, room, guests = line.split("|")
    plans.setdefault(prop, []).append((rate, room, int(guests)))
properties = sorted(plans)[: a.properties]


def control(start, end, room, rate):
    return (f'<StatusApplicationControl Start="{start.isoformat()}" End="{end.isoformat()}" '
            f'InvTypeCode="{room}" RatePlanCode="{rate}"/>')


def document(root, token, hotel, inner):
    messages = "AvailStatusMessages" if root == "OTA_HotelAvailNotifRQ" else "RateAmountMessages"
    return (f'<{root} xmlns="{NS}" EchoToken="{token}" TimeStamp="2026-12-01T10:00:00Z" Version="1.0">'
            f'<{messages} HotelCode="{hotel}">{inner}</{messages}></{root}>').encode()


def avail(start, end, room, rate, field, value):
    if field == "limit":
        return f'<AvailStatusMessage BookingLimit="{value}">{control(start, end, room, rate)}</AvailStatusMessage>'
    if field == "minlos":
        return (f'<AvailStatusMessage>{control(start, end, room, rate)}<LengthsOfStay>'
                f'<LengthOfStay MinMaxMessageType="SetMinLOS" Time="{value}"/></LengthsOfStay></AvailStatusMessage>')
    return (f'<AvailStatusMessage>{control(start, end, room, rate)}'
            f'<RestrictionStatus Status="{"Close" if value else "Open"}"/></AvailStatusMessage>')


def price(start, end, room, rate, cents, guests):
    amounts = "".join(f'<BaseByGuestAmt NumberOfGuests="{g}" AgeQualifyingCode="10" '
                      f'AmountAfterTax="{(cents + 2000 * (g - 1)) / 100:.2f}"/>' for g in range(1, guests + 1))
    return (f'<RateAmountMessage>{control(start, end, room, rate)}<Rates><Rate CurrencyCode="EUR"><BaseByGuestAmts>'
            f'{amounts}</BaseByGuestAmts></Rate></Rates></RateAmountMessage>')


def flush_bodies():
    for hotel in properties:
        availability, rates = [], []
        for i, (rate, room, guests) in enumerate(plans[hotel]):
            for run in range(0, a.days, 7):
                start = FIRST + timedelta(days=run)
                end = FIRST + timedelta(days=min(run + 6, a.days - 1))
                availability.append(avail(start, end, room, rate, "limit", 1 + (run + i) % 8))
                availability.append(avail(start, end, room, rate, "minlos", 1 + (run // 7 + i) % 3))
                rates.append(price(start, end, room, rate, 9000 + 100 * ((run // 7 + i) % 40), guests))
        yield document("OTA_HotelAvailNotifRQ", f"flush-a-{hotel}", hotel, "".join(availability))
        yield document("OTA_HotelRateAmountNotifRQ", f"flush-r-{hotel}", hotel, "".join(rates))


def delta_bodies():
    for n in range(a.deltas):
        hotel = properties[n % len(properties)]
        rate, room, guests = plans[hotel][(n // len(properties)) % len(plans[hotel])]
        start = FIRST + timedelta(days=(n * 7) % max(1, a.days - 7))
        end = start + timedelta(days=6)
        kind = n % 4
        if kind == 3:
            yield document("OTA_HotelRateAmountNotifRQ", f"delta-{n}", hotel, price(start, end, room, rate, 8000 + n % 5000, guests))
        else:
            field, value = [("limit", n % 9), ("minlos", 1 + n % 5), ("close", n % 2 == 0)][kind]
            yield document("OTA_HotelAvailNotifRQ", f"delta-{n}", hotel, avail(start, end, room, rate, field, value))


def send_all(bodies):
    """Sends every body over a.connections keep-alive connections; fails on any answer but <Success/>."""
    work = queue.Queue()
    for body in bodies:
        work.put(body)
    errors = []

    def worker():
        conn = http.client.HTTPConnection(host, int(port), timeout=300)
        while True:
            try:
                body = work.get_nowait()
            except queue.Empty:
                break
            conn.request("POST", path, body, {"Content-Type": "text/xml; charset=utf-8", "Authorization": auth})
            response = conn.getresponse()
            text = response.read()
            if response.status != 200 or b"<Success/>" not in text:
                errors.append(f"HTTP {response.status}: {text[:300]!r}")
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(a.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"ari-load: {len(errors)} pushes were not answered <Success/>; the first: {errors[0]}")


def phase(name, bodies):
    bodies = list(bodies)
    cells_before = int(psql("select count(*) from staging.ari_observations"))
    first = int(psql("select coalesce(max(arrival), 0) from staging.ari_messages")) + 1
    start = time.time()
    send_all(bodies)
    answered = time.time()
    # Durable cells: every message expanded (expanded_at set, in the expansion's commit).
    while psql("select count(*) from staging.ari_messages where expanded_at is null") != "0":
        time.sleep(0.02)
    done = time.time()
    cells = int(psql("select count(*) from staging.ari_observations")) - cells_before
    print(json.dumps({"phase": name, "hotels": len(properties), "messages": len(bodies), "bytes": sum(len(b) for b in bodies), "cells": cells,
                      "answered_seconds": round(answered - start, 3), "seconds": round(done - start, 3),
                      "first_arrival": first}), flush=True)


phase("flush", flush_bodies())
phase("deltas", delta_bodies())
