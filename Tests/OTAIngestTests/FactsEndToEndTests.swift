import Foundation
import OTAIngest
import OTASandbox
import TestSupport
import Testing

/// The whole path: the sandbox's world over several simulated days, pulled at
/// poll times, transformed, and compared version for version with the truth.
@Suite struct FactsEndToEndTests {
    private static func text(_ value: OTASandbox.JSONValue?) -> String {
        switch value {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        default: return "?"
        }
    }

    @Test func pulledAndTransformedFactsMatchTheTruthVersionForVersion() async throws {
        try await PullHarness.with({ c in
            c.seed = 17
            c.propertyCount = 3
            c.faults.malformedRecordRate = 0.02
        }) { h in
            let start = h.server.now
            var polls: [Date] = []
            for _ in 0..<5 {
                h.server.advance(minutes: 16 * 60)
                try await h.pull(.reservations(since: nil))
                polls.append(h.server.now)
            }
            let transform = try await CommandLineRunner.run(["transform", "--database-url", h.db.url])
            #expect(transform.status == 0, "\(transform.stdout) \(transform.stderr)")

            // Per booking, the distinct versions the polls saw, in OTA-time order.
            let seen = expectedBookings(h.server, polls: polls, start: start).landed
            let truth = Dictionary(grouping: h.server.bookingVersions(), by: \.bookingID)
            var expected: [String] = []
            for (id, bodies) in seen {
                let texts = Set(bodies.map(\.text))
                let versions = truth[id]!.filter { texts.contains($0.body.text) }.sorted { $0.otaTime < $1.otaTime }
                for v in versions {
                    let status = Self.text(v.body["status"]) == "1" ? "confirmed" : "cancelled"
                    let row =
                        "\(id)|\(status)|\(Self.text(v.body["roomStay"]?["from"]))|\(Self.text(v.body["roomStay"]?["to"]))"
                    expected.append(row + "|" + Timestamps.format(v.otaTime))
                }
            }
            let facts = try await h.strings(
                """
                select concat_ws('|', confirmation_id, status, check_in, check_out,
                                 to_char(valid_from at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                from facts.reservations
                """)
            #expect(!expected.isEmpty)
            #expect(facts.sorted() == expected.sorted())

            // One current version per booking, and it is the one valid at the last poll.
            let doubleCurrent = try await h.int(
                """
                select count(*)::int from (select confirmation_id from facts.reservations where is_current
                group by confirmation_id having count(*) <> 1) d
                """)
            #expect(doubleCurrent == 0)
            let lifecycles = Set(try await h.strings("select distinct lifecycle from facts.reservations"))
            #expect(lifecycles.isSuperset(of: ["new", "cancel"]))

            // A second transform changes nothing.
            let before = try await h.strings("select ctid::text || xmin::text from facts.reservations order by 1")
            let again = try await CommandLineRunner.run(["transform", "--database-url", h.db.url])
            #expect(again.status == 0)
            #expect(try await h.strings("select ctid::text || xmin::text from facts.reservations order by 1") == before)
        }
    }
}
