import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

@testable import Receiver

/// A group commit lands its requests a statement per kind; what it stores and answers must be
/// what landing them one at a time, in order, stores and answers.
@Suite struct BatchLandingTests {
    static func booking(_ id: Int, _ note: String) -> Landing {
        let data = Array(#"{"id":\#(id),"property":"HTL001","note":"\#(note)"}"#.utf8)
        return .booking(
            ReservationLanding.Event(
                source: "webhotelier",
                version: BookingVersion(confirmationId: id, propertyCode: "HTL001", data: data, otaTime: nil),
                eventType: "new", syncType: nil, origin: "push", raw: data, batchId: "batch/\(id)", runId: "run"))
    }

    static func rate(_ key: String, price: String) -> Landing {
        let raw = #"{"key":"\#(key)","price":\#(price)}"#
        return .rate(
            PushedRate(
                source: "bench", idempotencyKey: key, bodyHash: "hash-\(price)", propertyCode: "HTL001", rateId: "R1",
                roomCode: "DBL", stayDate: "2026-05-01", price: price, currency: "EUR",
                eventTime: "2026-01-01T10:00:00Z", raw: raw))
    }

    /// Originals, a redelivery and a collision of each, in one batch, twice.
    static let batch: [Landing] = [
        booking(1, "a"), booking(1, "a"), booking(1, "b"), booking(2, "x"),
        rate("k1", price: "10.00"), rate("k1", price: "10.00"), rate("k1", price: "11.00"), rate("k2", price: "12.00"),
    ]

    @Test func aBatchStoresAndAnswersWhatOneAtATimeLandingDoes() async throws {
        let batched = try await Self.land { tx in try await BatchLanding.land(Self.batch, runId: "run", on: tx) }
        let oneByOne = try await Self.land { tx in
            var results: [Landed] = []
            for landing in Self.batch { results.append(try await Committer.land(landing, runId: "run", on: tx)) }
            return results
        }
        #expect(
            batched.results == [.stored, .duplicate, .collision, .stored, .stored, .duplicate, .collision, .stored])
        #expect(batched.results == oneByOne.results)
        #expect(batched.again == oneByOne.again)
        #expect(batched.again.allSatisfy { $0 != .stored })
        #expect(batched.rows == oneByOne.rows)
    }

    /// Lands the batch twice in a fresh warehouse; the answers of each round and what was stored.
    static func land(_ body: (PostgresConnection) async throws -> [Landed]) async throws
        -> (results: [Landed], again: [Landed], rows: [String])
    {
        try await TestDatabase.with { db in
            let conn = try await db.connect()
            _ = try await Migrator().migrate(conn)
            let today = WallClock.system.loadDate().description
            try await conn.execute("select staging.ensure_load_partitions($1::date)", [today])
            let results = try await conn.durableTransaction { tx in try await body(tx) }
            let again = try await conn.durableTransaction { tx in try await body(tx) }
            let rows = try await conn.query(
                """
                select format('%s %s %s %s %s', source, property_code, confirmation_id, is_collision, convert_from(raw, 'UTF8'))
                from staging.reservation_events
                union all
                select format('%s %s %s %s %s %s', source, property_code, record_key, record_hash, price, raw)
                from staging.rate_observations
                union all
                select format('%s %s %s %s', source, property_code, idempotency_key, body_hash) from ops.webhook_receipts
                order by 1
                """
            ).map { try $0.decode(String.self, at: 0) }
            await conn.close()
            return (results, again, rows)
        }
    }
}
