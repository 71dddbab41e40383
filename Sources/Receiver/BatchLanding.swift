import Foundation
import OTAIngest
import PostgresClient

/// Lands a group commit's bookings and rate updates with one statement each, instead of one
/// statement per request: the rows travel as arrays and `unnest` turns them back into rows.
///
/// A statement sees the table as it was before the statement, so two requests for the same
/// booking (or the same idempotency key) in one statement would not see each other the way
/// one-at-a-time landing does. Only each key's first request goes into the statement; any later
/// ones (rare: a redelivery racing its original) land after it one at a time, exactly as before,
/// as do dead letters and values PostgreSQL text cannot hold (`Committer.land`).
enum BatchLanding {
    /// Lands `landings` in the open transaction; results in the order given.
    static func land(_ landings: [Landing], runId: String, on conn: isolated PostgresConnection) async throws
        -> [Landed]
    {
        var results = [Landed?](repeating: nil, count: landings.count)
        var bookings: [(Int, ReservationLanding.Event)] = []
        var rates: [(Int, PushedRate)] = []
        var bookingKeys: Set<[String]> = []
        var rateKeys: Set<[String]> = []
        var later: [Int] = []
        for (index, landing) in landings.enumerated() {
            switch landing {
            case .booking(let event):
                let key = [event.source, event.version.propertyCode, String(event.version.confirmationId)]
                if bookingKeys.insert(key).inserted, fitsText(event), !event.takesStoredContent {
                    bookings.append((index, event))
                } else {
                    later.append(index)
                }
            case .rate(let rate):
                let key = [rate.source, rate.propertyCode, rate.idempotencyKey]
                if rateKeys.insert(key).inserted, fitsText(rate) {
                    rates.append((index, rate))
                } else {
                    later.append(index)
                }
            case .deadLetter:
                later.append(index)
            }
        }
        for (index, outcome) in try await landBookings(bookings.map(\.1), on: conn).enumerated() {
            results[bookings[index].0] = outcome
        }
        for (index, outcome) in try await landRates(rates.map(\.1), runId: runId, on: conn).enumerated() {
            results[rates[index].0] = outcome
        }
        for index in later { results[index] = try await Committer.land(landings[index], runId: runId, on: conn) }
        return results.map { $0! }
    }

    /// Text columns travel as text[] elements, which cannot carry NUL; such a request lands alone
    /// and gets the one-at-a-time path's refusal.
    private static func fitsText(_ event: ReservationLanding.Event) -> Bool {
        [
            event.source, event.version.propertyCode, event.eventType, event.syncType, event.origin, event.rawFormat,
            event.batchId, event.runId, String(decoding: event.version.data, as: UTF8.self),
        ]
        .allSatisfy(PostgresTextArray.canHold)
    }

    private static func fitsText(_ rate: PushedRate) -> Bool {
        [
            rate.source, rate.idempotencyKey, rate.bodyHash, rate.propertyCode, rate.rateId, rate.roomCode,
            rate.stayDate,
            rate.price, rate.currency, rate.eventTime, rate.raw,
        ]
        .allSatisfy(PostgresTextArray.canHold)
    }

    /// `ReservationLanding.land` for many bookings, each for a different confirmation number.
    static func landBookings(_ events: [ReservationLanding.Event], on conn: isolated PostgresConnection) async throws
        -> [Landed]
    {
        guard !events.isEmpty else { return [] }
        let rows = try await conn.query(
            """
            with incoming as (
                select i.*, i.document::jsonb as data
                from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::bytea[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
                     with ordinality as i(source, property_code, confirmation_id, event_type, sync_type, origin,
                                          ota_time, raw, raw_format, batch_id, document, run_id, detects, n)
            ), hashed as (
                select i.*, encode(sha256(convert_to(i.data::text, 'UTF8')), 'hex') as content_hash from incoming i
            ),
            -- A "new" reusing a known number with other content is a collision, found by a join
            -- rather than a correlated exists(): Citus refuses that ("correlated subqueries are
            -- not supported when the FROM clause contains a CTE or subquery") and runs the join
            -- on the shards, the batch shipped to them. The same statement on one server.
            known as (
                select distinct h.n
                from hashed h
                join staging.reservation_events e
                  on e.source = h.source and e.property_code = h.property_code
                 and e.confirmation_id = h.confirmation_id
                where h.event_type = 'new' and h.detects = 't'
                  and not e.is_collision and e.content_hash <> h.content_hash
            )
            insert into staging.reservation_events
                (source, property_code, confirmation_id, event_type, sync_type, origin, ota_time, content_hash,
                 is_collision, raw, raw_format, data, batch_id, run_id)
            select h.source, h.property_code, h.confirmation_id, h.event_type, h.sync_type, h.origin,
                   h.ota_time::timestamptz, h.content_hash, k.n is not null,
                   h.raw, h.raw_format, h.data, h.batch_id, h.run_id
            from hashed h
            left join known k on k.n = h.n
            order by h.n
            on conflict (source, property_code, confirmation_id, content_hash) do nothing
            returning source, property_code, confirmation_id, is_collision
            """,
            [
                PostgresTextArray(events.map(\.source)), PostgresTextArray(events.map(\.version.propertyCode)),
                PostgresTextArray(events.map { String($0.version.confirmationId) }),
                PostgresTextArray(events.map(\.eventType)), PostgresTextArray(events.map(\.syncType)),
                PostgresTextArray(events.map(\.origin)),
                PostgresTextArray(events.map { $0.version.otaTime.map(Timestamps.format) }),
                PostgresByteaArray(events.map(\.raw)), PostgresTextArray(events.map(\.rawFormat)),
                PostgresTextArray(events.map(\.batchId)),
                PostgresTextArray(events.map { String(decoding: $0.version.data, as: UTF8.self) }),
                PostgresTextArray(events.map(\.runId)),
                PostgresTextArray(events.map { $0.detectsCollision ? "t" : "f" }),
            ])
        var landed: [[String]: Bool] = [:]
        for row in rows {
            landed[[
                try row.decode(String.self, at: 0), try row.decode(String.self, at: 1),
                try row.decode(String.self, at: 2),
            ]] =
                try row.decode(Bool.self, at: 3)
        }
        return events.map { event in
            switch landed[[event.source, event.version.propertyCode, String(event.version.confirmationId)]] {
            case nil: .duplicate
            case true?: .collision
            case false?: .stored
            }
        }
    }

    /// `Committer.landRate` for many rate updates, each under a different idempotency key.
    static func landRates(_ rates: [PushedRate], runId: String, on conn: isolated PostgresConnection) async throws
        -> [Landed]
    {
        guard !rates.isEmpty else { return [] }
        let rows = try await conn.query(
            """
            with incoming as (
                select *
                from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
                     with ordinality as i(source, property_code, idempotency_key, body_hash, rate_id, room_code,
                                          stay_date, price, currency, event_time, batch_id, raw, n)
            ), receipt as (
                insert into ops.webhook_receipts (source, property_code, idempotency_key, body_hash, run_id)
                select source, property_code, idempotency_key, body_hash, $13 from incoming order by n
                on conflict do nothing
                returning source, property_code, idempotency_key
            ), fresh as (
                select i.*,
                       coalesce((select case when r.max_adults = 1 then 1 else 2 end from dims.rooms r
                                 where r.property_code = i.property_code and r.room_code = i.room_code), 2) as adults
                from incoming i join receipt using (source, property_code, idempotency_key)
            )
            insert into staging.rate_observations
                (source, stream, property_code, rate_id, room_code, stay_date, adults, children, channel, price,
                 currency, closeout, min_stay, record_key, record_hash, observed_at, load_date, batch_id, run_id, raw,
                 origin)
            select n.source, 'rates', n.property_code, n.rate_id, n.room_code, n.stay_date::date, n.adults, 0, '',
                   n.price::numeric, n.currency, coalesce(f.closeout, false), coalesce(f.min_stay, 1),
                   n.idempotency_key, n.body_hash, n.event_time::timestamptz, $14::date, n.batch_id, $13, n.raw, 'push'
            from fresh n
            left join facts.rates f
              on f.property_code = n.property_code and f.rate_id = n.rate_id and f.room_code = n.room_code
             and f.stay_date = n.stay_date::date and f.adults = n.adults and f.children = 0 and f.channel = ''
             and f.source = n.source and f.valid_to is null
            order by n.n
            returning source, property_code, record_key
            """,
            [
                PostgresTextArray(rates.map(\.source)), PostgresTextArray(rates.map(\.propertyCode)),
                PostgresTextArray(rates.map(\.idempotencyKey)), PostgresTextArray(rates.map(\.bodyHash)),
                PostgresTextArray(rates.map(\.rateId)), PostgresTextArray(rates.map(\.roomCode)),
                PostgresTextArray(rates.map(\.stayDate)), PostgresTextArray(rates.map(\.price)),
                PostgresTextArray(rates.map(\.currency)), PostgresTextArray(rates.map(\.eventTime)),
                PostgresTextArray(rates.map { "\(runId)/rates/\($0.propertyCode)/push:\($0.idempotencyKey)" }),
                PostgresTextArray(rates.map(\.raw)), runId, WallClock.system.loadDate().description,
            ])
        var stored: Set<[String]> = []
        for row in rows {
            stored.insert([
                try row.decode(String.self, at: 0), try row.decode(String.self, at: 1),
                try row.decode(String.self, at: 2),
            ])
        }
        var results: [Landed] = []
        for rate in rates {
            if stored.contains([rate.source, rate.propertyCode, rate.idempotencyKey]) {
                results.append(.stored)
                continue
            }
            // Seen before: the same body is a redelivery; another body under the same key a collision.
            let known = try await conn.query(
                "select body_hash from ops.webhook_receipts where source = $1 and property_code = $2 and idempotency_key = $3",
                [rate.source, rate.propertyCode, rate.idempotencyKey])
            results.append(try known.first?.decode(String.self, at: 0) == rate.bodyHash ? .duplicate : .collision)
        }
        return results
    }
}
