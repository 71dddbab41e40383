import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// Reservations served and never seen acknowledged, as an operator finds them before the
/// OTA's fallback (an email to the hotel): in the night's attention list and in `status`,
/// which also says plainly that an OpenTravel source is never reconciled.
@Suite struct OpenTravelWaitingTests {
    @Test func reservationsWaitingForTheirAcknowledgementShowInTheNightAndInStatus() async throws {
        try await PullHarness.with({ c in OpenTravelPullTests.world(&c) }) { h in
            h.server.advance(minutes: 180)
            // Every acknowledgement is lost on its way: what the night reads stays queued.
            h.server.interceptOpenTravelAcks { _, _, _ in false }
            let config = FileManager.default.temporaryDirectory.appendingPathComponent("ot-\(UUID().uuidString).toml")
            try """
            [sources.bdc]
            kind = "opentravel"
            base_url = "\(h.baseURL)/hotels/ota"
            credentials_env = "BDC_ACCOUNT"
            auth = "basic"
            poll_ms = 10
            after_ack_ms = 10
            fallback_warning_minutes = 20
            requests_per_second = 5000
            burst = 5000
            max_attempts = 2
            retry_base_ms = 5
            retry_max_ms = 10

            [sources.sm]
            kind = "opentravel"
            pull = false
            push_username = "sm"
            push_password_env = "SM_PASSWORD"
            """.write(to: config, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: config) }
            let environment = OpenTravelPullTests.environment.merging(["SM_PASSWORD": "x"]) { a, _ in a }
            let night = try await CommandLineRunner.run(
                ["nightly", "--config", config.path, "--database-url", h.db.url], environment: environment)
            #expect(night.status != 0, "the night's pull could not acknowledge: \(night.stderr)")
            // The push-only source has nothing to pull.
            let steps = try await h.strings("select command from ops.runs where command like 'nightly: pull %'")
            #expect(steps == ["nightly: pull reservations bdc"], "\(steps)")
            let waiting = try await h.int("select count(*)::int from ops.opentravel_waiting where source = 'bdc'")
            #expect(waiting > 1, "the night's read should have left reservations waiting")
            let attention = try await h.strings(
                "select attention::text from ops.runs where command = 'nightly: pull reservations bdc'")
            #expect(
                attention.first?.contains("\(waiting) reservations of bdc still wait for their acknowledgement")
                    == true,
                "\(attention)")

            // One reservation served five minutes ago: waiting, not yet near the fallback.
            _ = try await h.strings(
                """
                update ops.opentravel_waiting set first_seen = now() - interval '5 minutes', ota_time = null
                where confirmation_id = (select min(confirmation_id) from ops.opentravel_waiting)
                returning 1
                """)
            let status = try await CommandLineRunner.run(
                ["status", "--format", "json", "--config", config.path, "--database-url", h.db.url],
                environment: environment)
            #expect(status.status == 0, "\(status.stderr)")
            let document = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any] ?? [:]
            let rows = document["opentravel"] as? [[String: Any]] ?? []
            #expect(rows.compactMap { $0["source"] as? String } == ["bdc"], "push-only sources have no queue: \(rows)")
            let bdc = rows.first ?? [:]
            #expect((bdc["waiting"] as? NSNumber)?.intValue == waiting, "\(bdc)")
            #expect((bdc["near_fallback"] as? NSNumber)?.intValue == waiting - 1, "\(bdc)")
            #expect((bdc["reconciled"] as? String)?.hasPrefix("never") == true, "\(bdc)")
            let table = try await CommandLineRunner.run(
                ["status", "--config", config.path, "--database-url", h.db.url], environment: environment)
            #expect(table.stdout.contains("== OpenTravel queues: reservations waiting for their acknowledgement"))
            #expect(table.stdout.contains("never: the queues are the only read"), "\(table.stdout)")
        }
    }
}
