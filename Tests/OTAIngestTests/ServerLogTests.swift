import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// What the tool does leaves the server's log clean: no statement of ours fails there
/// (a failing set_config on every repeated transform did, 33 times in a short session).
@Suite struct ServerLogTests {
    @Test("two nightlies and repeated transforms on one connection leave no ERROR in the server's log")
    func noErrorInTheServerLog() async throws {
        try await PullHarness.withScratchCluster(NightlyTests.world) { h, cluster in
            h.server.advance(minutes: 600)
            try await NightlyTests.seed(h)
            let config = try NightlyTests.config(h)
            defer { try? FileManager.default.removeItem(at: config) }
            for night in 0..<2 {
                if night > 0 { h.server.advance(minutes: 24 * 60) }
                let outcome = try await CommandLineRunner.run(
                    NightlyTests.arguments(h, config), environment: h.environment)
                #expect([0, 3].contains(outcome.status), "night \(night): \(outcome.stdout) \(outcome.stderr)")
            }
            // Several transforms in one session, as reconcile (before and after a repair) and
            // a long-lived caller run them; the session setting is applied once and holds.
            let connection = try await PostgresConnection.connect(cluster.url)
            for _ in 0..<3 { _ = try await TransformRunner().run(connection) }
            let setting = try await connection.query("select current_setting('temp_buffers')").first
            #expect(try setting?.decode(String.self, at: 0) == "256MB")
            await connection.close()
            let log = try String(contentsOf: cluster.logFile, encoding: .utf8)
            let errors = log.split(separator: "\n").filter { $0.contains("ERROR:") }
            #expect(errors.isEmpty, "\(errors.count) ERROR lines, e.g. \(errors.prefix(3))")
        }
    }
}
