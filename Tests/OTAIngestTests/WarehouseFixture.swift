import Foundation
import OTAIngest
import PostgresClient
import TestSupport

/// A migrated, seeded warehouse on a fresh test database, with helpers that stage
/// rows the way the pull jobs do (parameterised INSERTs) and read facts back.
struct WarehouseFixture {
    let database: TestDatabase
    let connection: PostgresConnection

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// Runs `body` against a fresh warehouse and drops it afterwards.
    static func with(_ body: (WarehouseFixture) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            do {
                _ = try await Migrator().migrate(connection)
                _ = try await SeedLoader().load(from: repositoryRoot.appendingPathComponent("seeds"), into: connection)
                try await body(WarehouseFixture(database: database, connection: connection))
                await connection.close()
            } catch {
                await connection.close()
                throw error
            }
        }
    }

    @discardableResult
    func transform(fullRefresh: Bool = false, checkAll: Bool = false, on other: PostgresConnection? = nil)
        async throws -> TransformRunner.Summary
    {
        try await TransformRunner().run(other ?? connection, fullRefresh: fullRefresh, checkAll: checkAll)
    }

    /// A WebHotelier booking body: one room, nightly prices, a named guest.
    static func booking(
        id: String, status: Int, checkIn: String, nights: Int, nightly: Double, room: String = "TWN",
        rate: String = "20019", email: String = "ann.lee@example.com", lastName: String = "Lee",
        channel: String = "Booking.com", changedAt: String
    ) -> String {
        let start = PostgresDate(checkIn)!
        let dates = (0..<nights).map { PostgresDate(daysSinceEpoch: start.daysSinceEpoch + $0).description }
        let checkOut = PostgresDate(daysSinceEpoch: start.daysSinceEpoch + nights).description
        let rates = dates.map { "{\"date\": \"\($0)\", \"price_with_tax\": \(nightly)}" }.joined(separator: ", ")
        let gross = nightly * Double(nights)
        return """
            {"id": \(id), "status": \(status), "property": "HTL003",
             "roomStay": {"roomType": "\(room)", "rateID": \(rate), "board": "BB", "from": "\(checkIn)", "to": "\(checkOut)", "rooms": 1},
             "bookInfo": {"book_date": "2025-03-01T08:00:00Z", "source": "\(channel)", "source_id": 5},
             "rooms": [{"roomNo": 1, "adults": 2, "children": 0, "price": \(gross * 0.9), "price_with_tax": \(gross), "rates": [\(rates)]}],
             "clientInfo": {"firstName": "Ann", "lastName": "\(lastName)", "email": "\(email)", "tel": "+30 210 555 0100"},
             "guest_names": ["Ann \(lastName)"], "special_requests": "late arrival",
             "pricing": {"price": \(gross), "sub_total": \(gross * 0.9), "extras": 0, "taxes": \(gross * 0.1), "currency": "GBP"},
             "changes": [{"user_type": "system", "user_name": "wh", "date": "\(changedAt)", "type": "MOD"}]}
            """
    }

    /// Stages one booking version as the pull job would, with the hash over the canonical data.
    @discardableResult
    func stageBooking(
        id: String, eventType: String, body: String, otaTime: String, loadedAt: String, property: String = "HTL003"
    ) async throws -> Int {
        let rows = try await connection.query(
            """
            insert into staging.reservation_events (source, property_code, confirmation_id, event_type, origin, ota_time,
                content_hash, raw, data, batch_id, run_id, loaded_at)
            select 'webhotelier', $1, $2, $3, 'pull', $4::timestamptz, encode(sha256(convert_to($5::jsonb::text, 'UTF8')), 'hex'),
                   convert_to($5::text, 'UTF8'), $5::jsonb, 'batch-' || $2, 'test-run', $6::timestamptz
            returning event_id
            """, [property, id, eventType, otaTime, PostgresJSON(body), loadedAt])
        return try rows[0].decode(Int.self, at: 0)
    }

    /// Stages rate observations for HTL001 rate 20001 (room DBL), 2 adults, one per night, at one fetch time.
    func stageRates(
        nights: [String], price: (String) -> Double, observedAt: String, loadedAt: String, rate: String = "20001",
        room: String = "DBL"
    ) async throws {
        let loadDate = String(loadedAt.prefix(10))
        _ = try await connection.query("select staging.ensure_load_partitions($1::date)", [loadDate])
        for night in nights {
            try await connection.execute(
                """
                insert into staging.rate_observations (source, stream, property_code, rate_id, room_code, stay_date, adults,
                    children, channel, price, currency, closeout, min_stay, observed_at, load_date, batch_id, run_id, raw, loaded_at)
                values ('webhotelier', 'rates', 'HTL001', $1, $2, $3::date, 2, 0, '', $4, 'EUR', false, 1, $5::timestamptz,
                        $6::date, 'batch', 'test-run', '{}', $7::timestamptz)
                """, [rate, room, night, price(night), observedAt, loadDate, loadedAt])
        }
    }

    /// Stages availability observations for HTL001 room DBL, one per night.
    func stageAvailability(nights: [String], allotment: (String) -> Int, observedAt: String, loadedAt: String)
        async throws
    {
        let loadDate = String(loadedAt.prefix(10))
        _ = try await connection.query("select staging.ensure_load_partitions($1::date)", [loadDate])
        for night in nights {
            try await connection.execute(
                """
                insert into staging.availability_observations (source, property_code, room_code, stay_date, allotment,
                    stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure, observed_at, load_date,
                    batch_id, run_id, raw, loaded_at)
                values ('webhotelier', 'HTL001', 'DBL', $1::date, $2, false, 1, 0, false, false, $3::timestamptz,
                        $4::date, 'batch', 'test-run', '{}', $5::timestamptz)
                """, [night, allotment(night), observedAt, loadDate, loadedAt])
        }
    }

    /// One text line per fact row, sorted: equal fingerprints mean equal facts.
    func factsFingerprint() async throws -> [String] {
        var lines: [String] = []
        for table in [
            "facts.reservations", "facts.reservation_nights", "facts.reservation_transactions",
            "facts.availability", "facts.rates",
        ] {
            // Table names come from the fixed list above, never from input.
            let rows = try await connection.query("select t::text from \(table) t order by 1")
            lines += try rows.map { "\(table) " + (try $0.decode(String.self, at: 0)) }
        }
        return lines
    }

    func strings(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> [String] {
        try await connection.query(sql, parameters).map { try $0.decode(String.self, at: 0) }
    }

    func int(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> Int {
        try await connection.query(sql, parameters)[0].decode(Int.self, at: 0)
    }

    static func nights(from first: String, count: Int) -> [String] {
        let start = PostgresDate(first)!
        return (0..<count).map { PostgresDate(daysSinceEpoch: start.daysSinceEpoch + $0).description }
    }
}
