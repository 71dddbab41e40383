import Foundation
import PostgresClient

/// Snapshots of WebHotelier bookings through the paginated search: bookings
/// modified within the window, and bookings checking out from today on. Only
/// the compared fields and the body's content hash are kept; the bodies pass
/// through a temporary table of the snapshot's transaction and are gone at commit.
enum ReservationSnapshot {
    static let pageSize = 1000

    static func take(
        _ context: PullContext, account: PropertyAccount, caller: SourceCaller, connection: PostgresConnection
    ) async throws -> Int64 {
        let source = context.source
        let client = WebHotelierClient(account: account, baseURL: source.baseURL, caller: caller)
        let now = context.clock.now()
        let modifiedSince = now.addingTimeInterval(-Double(source.reconcile.reservationWindowDays) * 86400)
        let today = CivilDate(now)
        var bodies: [Int: [UInt8]?] = [:]
        var pages = 0
        for filter in [("last_mod_fromd", Timestamps.format(modifiedSince)), ("chkout_fromd", today.description)] {
            var page = 1
            while true {
                let result = try await client.searchFullBodies(filter: filter, page: page, rows: pageSize)
                pages += 1
                for booking in result.bookings {
                    bodies[booking.id] = .some(readable(result.envelope.body, booking.body))
                }
                if result.bookings.count < pageSize || page * pageSize >= result.total { break }
                page += 1
            }
        }
        let code = account.propertyCode
        let unreadable = bodies.values.filter { $0 == nil }.count
        let rows = bodies.sorted { $0.key < $1.key }
        return try await connection.transaction { conn in
            try await conn.execute(
                "create temp table recon_incoming_bookings (confirmation_id text, body jsonb) on commit drop")
            _ = try await conn.copyIn("copy recon_incoming_bookings (confirmation_id, body) from stdin") { writer in
                for (id, body) in rows {
                    try writer.appendField(String(id))
                    if let body {
                        try writer.appendField(bytes: body[...])
                    } else {
                        try writer.appendNull()
                    }
                    try writer.endRow()
                }
            }
            let id = try await SnapshotStore.insert(
                source: source.name, stream: "reservations", property: code,
                scope: "modified since \(Timestamps.format(modifiedSince)) or checking out from \(today)",
                readKind: "search", takenAt: now, stayFrom: today, stayTo: nil, modifiedSince: modifiedSince,
                feedRunID: nil, runID: context.run.id, on: conn)
            // The same fields the transforms derive (sql/transforms/30): status, dates,
            // rooms x nights, pricing.price; an unreadable body keeps only its key.
            try await conn.execute(
                """
                insert into recon.snapshot_reservations (snapshot_id, property_code, confirmation_id, status, check_in,
                    check_out, room_nights, total_gross, currency, content_hash)
                select $1, $2, i.confirmation_id,
                       case i.body ->> 'status' when '1' then 'confirmed' when '0' then 'cancelled' end,
                       (i.body #>> '{roomStay,from}')::date, (i.body #>> '{roomStay,to}')::date,
                       greatest(coalesce(
                           case when jsonb_typeof(i.body -> 'rooms') = 'array'
                                then nullif(jsonb_array_length(i.body -> 'rooms'), 0) end,
                           (i.body #>> '{roomStay,rooms}')::integer, 1), 1)
                         * ((i.body #>> '{roomStay,to}')::date - (i.body #>> '{roomStay,from}')::date),
                       (i.body #>> '{pricing,price}')::numeric, i.body #>> '{pricing,currency}',
                       coalesce(encode(sha256(convert_to(i.body::text, 'UTF8')), 'hex'), 'unreadable')
                from recon_incoming_bookings i
                """, [id, code])
            _ = try await SnapshotStore.finish(
                id, table: .reservations, counts: ["pages": pages, "unreadable": unreadable], on: conn)
            return id
        }
    }

    /// The body's bytes when it passes the pull's own validation (so the fields can be
    /// read and its hash matches what a pull would stage), else nil: kept as a key only.
    static func readable(_ page: [UInt8], _ range: Range<Int>) -> [UInt8]? {
        let valid = page.withUnsafeBufferPointer { buffer -> Bool in
            let scanner = JSONScanner(buffer)
            guard let value = try? scanner.value(in: range) else { return false }
            if case .failure = BookingParser.parse(page, data: value, expectedId: nil, expectedProperty: nil) {
                return false
            }
            return !StagingWriter.containsEscapedNul(
                UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[range]))
        }
        return valid ? Array(page[range]) : nil
    }
}
