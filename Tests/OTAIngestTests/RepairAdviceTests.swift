import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// A breach that `reconcile --repair` cannot clear says why and where to look,
/// never "run --repair" again.
@Suite struct RepairAdviceTests {
    @Test("a breach the repair cannot clear names what is left and the command that lists the keys")
    func unclearableBreachPointsAtTheKeys() async throws {
        try await PullHarness.with({ c in
            c.seed = 188
            c.propertyCount = 1
        }) { h in
            try await h.pull(.inventory)
            _ = try await TransformRunner().run(try await h.db.connect())
            // One current cell in ten moves to a room the OTA never served: the warehouse now
            // holds keys the OTA does not (extra) and lacks the ones it does (missing).
            let moved = try await h.int(
                """
                with moved as (
                    update facts.rates set room_code = room_code || '-GONE'
                    where is_current and stream = 'inventory' and stay_date::text like '%0'
                    returning 1)
                select count(*)::int from moved
                """)
            #expect(moved > 0)
            let outcome = try await ReconcileRunner(
                databaseURL: h.db.url, config: h.sources(), sourceName: "acme", repair: true,
                clock: WallClock(pinned: h.server.now), secrets: SecretResolver(environment: h.environment)
            ).run()
            #expect(outcome.status == .driftBreached, "\(outcome.summary)")
            let scope = try #require(outcome.scopes.first)
            #expect(scope.afterRepair?["missing_keys"] == 0, "the repair lands what the OTA serves")
            #expect(scope.afterRepair?["extra_keys"] == Double(moved))
            let summary = outcome.summary
            #expect(summary.contains("still breached after the repair"), "\(summary)")
            #expect(summary.contains("\(moved) extra"), "\(summary)")
            #expect(
                summary.contains("ota-ingest reconcile --show-keys --source acme --stream inventory --property"),
                "\(summary)")
            #expect(!summary.contains("fix: run `ota-ingest reconcile --repair`"), "a loop: \(summary)")
        }
    }
}
