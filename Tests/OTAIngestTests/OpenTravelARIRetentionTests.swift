import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// Retention of pushed OpenTravel ARI messages: old observations go once a later message
/// replaced them, or when their night is past; a value still in force stays whatever its
/// age, so the state the next message writes still carries it.
@Suite struct OpenTravelARIRetentionTests {
    /// A stored message of hotel H1, source cm, `daysAgo` days old, setting `fields` on
    /// DBL/BAR for the nights given (each night its own part).
    static func store(
        _ connection: PostgresConnection, key: String, daysAgo: Int, nights: [String], fields: String,
        expanded: Bool = true
    ) async throws {
        let parts = nights.map { #"{"room": "DBL", "rate": "BAR", "start": "\#($0)", "end": "\#($0)", \#(fields)}"# }
        _ = try await connection.execute(
            """
            insert into staging.ari_messages (source, property_code, message_key, root, raw, data, run_id, loaded_at)
            values ('cm', 'H1', $1, 'OTA_HotelAvailNotifRQ', '', $2::jsonb, 'test', now() - make_interval(days => $3::int))
            """, [key, #"{"messages": [\#(parts.joined(separator: ", "))]}"#, daysAgo])
        if expanded { try await OpenTravelARIExpansion.expandAll(on: connection) }
    }

    @Test func purgeKeepsEveryValueInForceAndDropsReplacedAndPastOnes() async throws {
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            do {
                _ = try await Migrator().migrate(connection)
                _ = try await connection.execute(
                    "insert into dims.properties (property_code, name, currency, time_zone, reporting_currency) values ('H1', 'H1', 'EUR', 'UTC', 'EUR')"
                )
                let dates = try await connection.query(
                    "select (current_date + 10)::text, (current_date - 200)::text")[0]
                let (night, past): (String, String) = (try dates.decode(at: 0), try dates.decode(at: 1))
                func limit(_ n: Int) -> String { #""fields": [{"field": "booking_limit", "int": \#(n)}]"# }
                try await Self.store(connection, key: "m0", daysAgo: 101, nights: [night], fields: limit(2))
                try await Self.store(
                    connection, key: "m1", daysAgo: 100, nights: [night, past],
                    fields: #""fields": [{"field": "booking_limit", "int": 4}, {"field": "max_stay", "int": 9}]"#)
                try await Self.store(connection, key: "m2", daysAgo: 99, nights: [night, past], fields: limit(6))
                try await Self.store(
                    connection, key: "waiting", daysAgo: 120, nights: [night], fields: limit(1), expanded: false)
                #expect(try await Self.count(connection, "staging.ari_observations") == 7)

                let purged = try await Retention.purgeARI(olderThanDays: 90, on: connection)
                #expect(purged.messages == 1 && purged.observations == 5, "\(purged)")
                let left = try await connection.query(
                    "select message_key || ' ' || stay_date::text || ' ' || field from staging.ari_observations order by 1"
                ).map { try $0.decode(String.self, at: 0) }
                #expect(left == ["m1 \(night) max_stay", "m2 \(night) booking_limit"])
                #expect(
                    try await connection.query("select message_key from staging.ari_messages order by 1").map {
                        try $0.decode(String.self, at: 0)
                    } == ["m1", "m2", "waiting"])

                // The next message's state still carries the old values in force.
                try await Self.store(
                    connection, key: "m3", daysAgo: 0, nights: [night],
                    fields: #""prices": [{"guests": 2, "amount": 100}], "currency": "EUR", "tax_included": true"#)
                let state = try await connection.query(
                    "select available, max_stay, price::text from staging.rate_observations where batch_id = 'm3'")
                #expect(state.count == 1)
                #expect(try state.first?.decode(Int?.self, at: 0) == 6)
                #expect(try state.first?.decode(Int?.self, at: 1) == 9)
                #expect(try state.first?.decode(String?.self, at: 2) == "100.00")
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        }
    }

    static func count(_ connection: PostgresConnection, _ table: String) async throws -> Int {
        // Table names come from the tests above, never from input.
        try await connection.query("select count(*)::int from \(table)")[0].decode(Int.self, at: 0)
    }
}
