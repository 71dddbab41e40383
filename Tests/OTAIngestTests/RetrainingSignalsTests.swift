import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// feeds.population_stability and feeds.retraining_signals on the real server.
@Suite("Retraining signals")
struct RetrainingSignalsTests {
    /// The PSI written out independently: deciles by percentile_disc
    /// (the smallest value with at least p of the values at or below it),
    /// duplicate edges merged, bins (lower, upper], empty bins at 0.0001.
    static func psi(reference: [Double], actual: [Double]) -> Double {
        let sorted = reference.sorted()
        var edges: [Double] = []
        for tenth in 1...9 {
            // ceil(p * n) in integers, so 0.1 * 3 never becomes 0.30000000000000004.
            let edge = sorted[max((tenth * sorted.count + 9) / 10 - 1, 0)]
            if edges.last != edge { edges.append(edge) }
        }
        func shares(_ values: [Double]) -> [Double] {
            var counts = Array(repeating: 0, count: edges.count + 1)
            for v in values { counts[edges.filter { $0 < v }.count] += 1 }
            return counts.map { $0 == 0 ? 0.0001 : Double($0) / Double(values.count) }
        }
        return zip(shares(actual), shares(reference)).map { a, e in (a - e) * log(a / e) }.reduce(0, +)
    }

    func psi(_ connection: PostgresConnection, _ reference: [Double], _ actual: [Double]) async throws -> Double {
        let text = try await connection.query(
            "select feeds.population_stability($1::numeric[], $2::numeric[])::text",
            [
                "{" + reference.map { String($0) }.joined(separator: ",") + "}",
                "{" + actual.map { String($0) }.joined(separator: ",") + "}",
            ])[0].decode(String.self, at: 0)
        return Double(text)!
    }

    @Test("PSI of two known distributions, ties included, equals the formula's value")
    func knownDistributions() async throws {
        try await WarehouseFixture.with { fixture in
            // Ties: half the reference is 1, so the deciles 0.1-0.5 merge into one edge.
            let reference: [Double] = [1, 1, 1, 1, 1, 2, 2, 3, 4, 5]
            let actual: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
            // By hand: edges 1,2,3,4; e = .5 .2 .1 .1 .1; a = .1 .1 .1 .1 .6.
            let byHand = -0.4 * log(0.2) - 0.1 * log(0.5) + 0.5 * log(6.0)
            let value = try await psi(fixture.connection, reference, actual)
            #expect(abs(value - byHand) < 1e-12)
            #expect(abs(value - Self.psi(reference: reference, actual: actual)) < 1e-12)

            // Wider, with an empty bin: prices 100..199 against prices shifted by 30.
            let prices = (0..<100).map { 100.0 + Double($0) }
            let shifted = prices.map { $0 + 30 } + [150, 150, 150]
            let wide = try await psi(fixture.connection, prices, shifted)
            #expect(abs(wide - Self.psi(reference: prices, actual: shifted)) < 1e-9)
            #expect(wide > 0.25)
            #expect(try await psi(fixture.connection, prices, prices) == 0)
        }
    }

    func snapshot(_ fixture: WarehouseFixture, prices: [Double], hoursAgo: Int, pinned: Bool = false) async throws
        -> Int64
    {
        let id = try await fixture.connection.query(
            """
            insert into recon.snapshots (source, stream, property_code, scope, read_kind, taken_at, keys, run_id, pinned)
            values ('webhotelier', 'rates', 'HTL001', 'test', 'feed_read', now() - make_interval(hours => $1::int), $2, 'test', $3)
            returning snapshot_id
            """, [hoursAgo, prices.count, pinned])[0].decode(Int64.self, at: 0)
        for (index, price) in prices.enumerated() {
            try await fixture.connection.execute(
                """
                insert into recon.snapshot_rates (snapshot_id, property_code, rate_id, room_code, stay_date, adults,
                    children, channel, price, currency, closeout, min_stay)
                values ($1, 'HTL001', '20001', 'DBL', date '2025-07-01' + $2::int, 2, 0, '', $3, 'EUR', false, 1)
                """, [id, index, price])
        }
        return id
    }

    func signal(_ fixture: WarehouseFixture) async throws -> (on: Bool, status: String, reasons: String) {
        let row = try await fixture.connection.query(
            """
            select should_retrain, psi_status, array_to_string(reasons, '; ') from feeds.retraining_signals
            where source = 'webhotelier' and stream = 'rates' and property_code = 'HTL001'
            """)[0]
        return (
            try row.decode(Bool.self, at: 0), try row.decode(String.self, at: 1), try row.decode(String.self, at: 2)
        )
    }

    @Test("should_retrain stays off on a clean world, turns on for a shifted distribution and for a breach")
    func shouldRetrain() async throws {
        let prices = (0..<50).map { 100.0 + Double($0 % 25) }
        try await WarehouseFixture.with { fixture in
            _ = try await snapshot(fixture, prices: prices, hoursAgo: 48)
            _ = try await snapshot(fixture, prices: prices, hoursAgo: 24)
            let clean = try await signal(fixture)
            #expect(!clean.on && clean.status == "stable" && clean.reasons.isEmpty, "\(clean)")

            // A breach in the last 7 days turns it on, with its reason.
            try await fixture.connection.execute(
                """
                insert into recon.drift_metrics (run_id, snapshot_id, source, stream, property_code, metric, kind,
                    value, threshold, breached, compared_at)
                values ('r1', 1, 'webhotelier', 'rates', 'HTL001', 'mismatched_share', 'drift', 0.2, 0.005, true,
                        now() - interval '2 days'),
                       ('r0', 1, 'webhotelier', 'rates', 'HTL001', 'mismatched_share', 'drift', 0.2, 0.005, true,
                        now() - interval '9 days')
                """)
            let breached = try await signal(fixture)
            #expect(breached.on && breached.reasons.contains("1 drift breaches"), "\(breached)")
            try await fixture.connection.execute("delete from recon.drift_metrics")

            // A shifted distribution against the previous snapshot turns it on.
            _ = try await snapshot(fixture, prices: prices.map { $0 * 1.3 }, hoursAgo: 1)
            let shifted = try await signal(fixture)
            #expect(shifted.on && shifted.status == "retrain" && shifted.reasons.hasPrefix("psi "), "\(shifted)")

            // Pinning the unshifted first snapshot as the reference, then a latest equal to the shifted one:
            // against the previous (shifted) one it would be stable, against the pinned reference it is not.
            try await fixture.connection.execute(
                "update recon.snapshots set pinned = true where snapshot_id = (select min(snapshot_id) from recon.snapshots)"
            )
            _ = try await snapshot(fixture, prices: prices.map { $0 * 1.3 }, hoursAgo: 0)
            let pinned = try await signal(fixture)
            #expect(pinned.on && pinned.status == "retrain", "\(pinned)")
        }
    }
}
