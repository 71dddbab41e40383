import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// The expansion of pushed OpenTravel ARI messages takes a batch of waiting messages of
/// one hotel and source per transaction and writes each touched cell's states set-wise.
/// Several messages of the same cell in one batch (one at the same time as another, two
/// repeating a value, one late) give the facts that expanding them one at a time does,
/// and those are the cell's true history.
@Suite struct OpenTravelARIBatchTests {
    static let night = "2027-03-01"

    /// A stored message of `hotel`, source cm, at `second` seconds past midnight of
    /// 2026-01-01: a price for two guests of DBL/BAR, or a booking limit of DBL/BAR and of
    /// the room DBL itself (its own state, facts.availability).
    enum Message {
        case price(second: Int, amount: String)
        case limit(second: Int, rooms: Int)
    }

    static func store(_ connection: PostgresConnection, hotel: String, _ message: Message, key: String) async throws {
        let (root, second, parts): (String, Int, String)
        let cell = #""start": "\#(night)", "end": "\#(night)""#
        switch message {
        case .price(let s, let amount):
            (root, second) = ("OTA_HotelRateAmountNotifRQ", s)
            parts =
                #"{"room": "DBL", "rate": "BAR", \#(cell), "prices": [{"guests": 2, "amount": \#(amount)}], "currency": "EUR", "tax_included": true}"#
        case .limit(let s, let rooms):
            (root, second) = ("OTA_HotelAvailNotifRQ", s)
            let fields = #""fields": [{"field": "booking_limit", "int": \#(rooms)}]"#
            parts = #"{"room": "DBL", "rate": "BAR", \#(cell), \#(fields)}, {"room": "DBL", \#(cell), \#(fields)}"#
        }
        _ = try await connection.execute(
            """
            insert into staging.ari_messages (source, property_code, message_key, root, ota_time, raw, data, run_id)
            values ('cm', $1, $2, $3, timestamptz '2026-01-01T00:00:00Z' + make_interval(secs => $4::int), '',
                    $5::jsonb, 'test')
            """, [hotel, key, root, second, #"{"messages": [\#(parts)]}"#])
    }

    /// The versions of the cell at two guests and of the room, as "from to price limit" and
    /// "from to limit" (seconds past midnight; "-" for the current version).
    static func versions(_ connection: PostgresConnection, hotel: String) async throws -> [String] {
        try await connection.query(
            """
            select 'rate ' || concat_ws(' ', extract(second from valid_from)::int,
                                        coalesce(extract(second from valid_to)::int::text, '-'), price, available)
            from facts.rates where source = 'cm' and property_code = $1 and adults = 2
            union all
            select 'room ' || concat_ws(' ', extract(second from valid_from)::int,
                                        coalesce(extract(second from valid_to)::int::text, '-'), allotment)
            from facts.availability where source = 'cm' and property_code = $1
            order by 1
            """, [hotel]
        ).map { try $0.decode(String.self, at: 0) }
    }

    @Test func aBatchOfOneCellsMessagesGivesTheFactsOfExpandingThemOneAtATime() async throws {
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            do {
                _ = try await Migrator().migrate(connection)
                _ = try await connection.execute(
                    """
                    insert into dims.properties (property_code, name, currency, time_zone, reporting_currency)
                    select h, h, 'EUR', 'UTC', 'EUR' from unnest(array['ONE', 'BATCH', 'LATE']) as h
                    """)
                let transforms = try TransformRunner()
                func promote() async throws {
                    #expect(try await transforms.run(connection).failedChecks.isEmpty)
                }
                // In arrival order: a price and a booking limit at the same time; the limit again
                // (a repeat) and the price again (a repeat); a new price; last, a limit of 7 at
                // second 3 (late: before the repeats, which put 5 back in force at second 4).
                let messages: [Message] = [
                    .price(second: 1, amount: "100"), .limit(second: 1, rooms: 5), .limit(second: 4, rooms: 5),
                    .price(second: 5, amount: "100"), .price(second: 6, amount: "120"), .limit(second: 3, rooms: 7),
                ]
                let truth = [
                    "rate 1 3 100.00 5", "rate 3 4 100.00 7", "rate 4 6 100.00 5", "rate 6 - 120.00 5",
                    "room 1 3 5", "room 3 4 7", "room 4 - 5",
                ]

                // ONE: each message expanded (and promoted) on its own.
                for (n, message) in messages.enumerated() {
                    try await Self.store(connection, hotel: "ONE", message, key: "one-\(n)")
                    #expect(try await OpenTravelARIExpansion.expandNext(on: connection) == 1)
                    try await promote()
                }
                // BATCH: all six in one batch, one transaction.
                for (n, message) in messages.enumerated() {
                    try await Self.store(connection, hotel: "BATCH", message, key: "batch-\(n)")
                }
                #expect(try await OpenTravelARIExpansion.expandNext(on: connection) == 6)
                try await promote()
                // LATE: the first four on their own, then the new price and the late limit in one
                // batch, onto the repeats already expanded.
                for (n, message) in messages.enumerated() {
                    try await Self.store(connection, hotel: "LATE", message, key: "late-\(n)")
                    if n < 4 {
                        #expect(try await OpenTravelARIExpansion.expandNext(on: connection) == 1)
                        try await promote()
                    }
                }
                #expect(try await OpenTravelARIExpansion.expandNext(on: connection) == 2)
                try await promote()
                #expect(try await OpenTravelARIExpansion.expandNext(on: connection) == 0)

                #expect(try await Self.versions(connection, hotel: "ONE") == truth)
                #expect(try await Self.versions(connection, hotel: "BATCH") == truth)
                #expect(try await Self.versions(connection, hotel: "LATE") == truth)
                // Set-wise: the batch wrote one state per time of the cell (seconds 1, 3, 4 and 6;
                // the repeated price at 5 changes nothing), each in the name of its own message.
                let written = try await connection.query(
                    """
                    select string_agg(extract(second from observed_at)::int || ' ' || batch_id, ', ' order by observed_at)
                    from staging.rate_observations where property_code = 'BATCH' and adults = 2
                    """)[0].decode(String.self, at: 0)
                #expect(written == "1 batch-1, 3 batch-5, 4 batch-2, 6 batch-4")
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        }
    }

    /// Rooms a batch names that the hotel's seeds lack are registered in key order, as the
    /// transforms register codes, so an expansion and another session registering the same
    /// rooms (a promotion, another expansion) never wait for each other in a circle. Made,
    /// not hoped for: another session holds the first room uncommitted; the expansion must
    /// wait there holding none of the others, so that session can then insert the rest (in
    /// descending order) and commit. Registered in any other order, the expansion would hold
    /// some of them and one of the two would be rolled back as a deadlock.
    @Test func roomsAreRegisteredInKeyOrderSoTwoRegistrationsNeverDeadlock() async throws {
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            let other = try await db.connect()
            let expander = try await db.connect()
            func close() async {
                for c in [connection, other, expander] { await c.close() }
            }
            do {
                _ = try await Migrator().migrate(connection)
                _ = try await connection.execute(
                    """
                    insert into dims.properties (property_code, name, currency, time_zone, reporting_currency)
                    values ('KEYS', 'KEYS', 'EUR', 'UTC', 'EUR')
                    """)
                let rooms = (1...40).map { String(format: "Z%02d", $0) }
                let limits = rooms.map {
                    #"{"room": "\#($0)", "start": "\#(Self.night)", "end": "\#(Self.night)", "fields": [{"field": "booking_limit", "int": 3}]}"#
                }
                _ = try await connection.execute(
                    """
                    insert into staging.ari_messages (source, property_code, message_key, root, ota_time, raw, data, run_id)
                    values ('cm', 'KEYS', 'keys-1', 'OTA_HotelAvailNotifRQ', '2026-01-01T00:00:01Z', '', $1::jsonb, 'test')
                    """, [#"{"messages": [\#(limits.joined(separator: ", "))]}"#])
                try await other.execute("begin")
                try await other.execute(
                    "insert into dims.rooms (property_code, room_code, name) values ('KEYS', $1, $1)", [rooms[0]])
                let pid = await expander.backendPID
                let expansion = Task { try await OpenTravelARIExpansion.expandNext(on: expander) }
                // It waits for the other session's transaction, on the first room.
                guard try await ServerActivity.waitUntil(pid, waitsOn: "transactionid", observer: connection) else {
                    expansion.cancel()
                    Issue.record("the expansion never waited for the other session's room")
                    throw CancellationError()
                }
                try await other.execute(
                    """
                    insert into dims.rooms (property_code, room_code, name)
                    select 'KEYS', room, room from unnest($1::text[]) room order by room desc
                    """, ["{" + rooms.dropFirst().joined(separator: ",") + "}"])
                try await other.execute("commit")
                #expect(try await expansion.value == 1)
                #expect(
                    try await connection.query(
                        "select count(*)::int from dims.rooms where property_code = 'KEYS' and auto_registered"
                    ).first?.decode(Int.self, at: 0) == 0, "the other session registered every room first")
                #expect(
                    try await connection.query(
                        "select count(distinct room_code)::int from staging.availability_observations where property_code = 'KEYS'"
                    ).first?.decode(Int.self, at: 0) == 40)
            } catch {
                await close()
                throw error
            }
            await close()
        }
    }
}
