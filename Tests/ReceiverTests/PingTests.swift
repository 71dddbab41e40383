import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// WebHotelier PING: answered at once, pulled behind, bursts coalesced.
@Suite struct PingTests {
    @Test func aBurstWhileAPullWaitsOnTheLockCausesExactlyOneMorePull() async throws {
        try await ReceiverHarness.with({ c in
            c.seed = 85
            c.propertyCount = 1
        }) { h in
            h.sandbox.advance(minutes: 6 * 60)
            let code = h.sandbox.accounts()[0].code
            // A scheduled pull (here: the test) holds the property's lock.
            let holder = try await h.db.connect()
            try await holder.advisoryLock(
                PostgresConnection.advisoryLockKey("ota-ingest property: webhotelier/\(code)"))
            for _ in 0..<10 {
                let answer = try await h.send(
                    "GET", "/webhooks/webhotelier",
                    headers: ["x-wh-property": code, "Authorization": ReceiverHarness.basicHeader])
                #expect(answer.status == 200)
            }
            // Wait until the first PING pull is blocked on the lock, then let it go.
            let watcher = try await h.db.connect()
            while try await watcher.query(
                "select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%pg_advisory_lock%'"
            ).isEmpty {
                try await Task.sleep(for: .milliseconds(20))
            }
            await watcher.close()
            await holder.close()
            await h.receiver.waitForPingPulls()
            #expect(
                try await h.int(
                    "select count(*)::int from ops.runs where command = $1",
                    ["pull reservations --ping \(code) webhotelier"])
                    == 2)
            let text = h.receiver.metricsText
            #expect(text.contains("ota_receiver_ping_pulls_total 2"), "\(text)")
            #expect(text.contains("ota_receiver_pings_coalesced_total 9"))
            #expect(h.sandbox.syncQueue()[code] == [], "the PING pulls emptied the queue")
            #expect(try await h.int("select count(*)::int from staging.reservation_events") > 0)
            // Logged under its own key, not the scheduled pull's.
            #expect(
                try await h.strings("select endpoint from ops.call_log where property_code = $1", [code])
                    == ["reservation/new#ping"])
        }
    }

    @Test func sandboxPingsArePulledWithinTheirExemptionAndAnUnknownPropertyIs404() async throws {
        try await ReceiverHarness.with({ c in
            c.seed = 86
            c.propertyCount = 2
            c.minimumPendingIntervalMinutes = 5
            c.webhookRetry.initialBackoffMilliseconds = 5
        }) { h in
            // Registered with the Basic credentials, as WebHotelier allows for PING endpoints too.
            try h.sandbox.registerWebhook(
                WebhookRegistration(
                    mode: .ping, url: h.baseURL + "/webhooks/webhotelier", username: ReceiverHarness.basic.username,
                    password: ReceiverHarness.basic.password))
            h.sandbox.advance(minutes: 6 * 60)
            await h.sandbox.waitForWebhookDeliveries()
            await h.receiver.waitForPingPulls()
            let deliveries = h.sandbox.webhookDeliveries()
            #expect(deliveries.count > 10 && deliveries.allSatisfy { $0.outcome == .delivered })
            let queue = h.sandbox.syncQueue()
            #expect(queue.values.allSatisfy { $0.isEmpty }, "\(queue)")
            #expect(h.sandbox.minimumIntervalViolations().values.allSatisfy { $0 == 0 })
            let pulls = try await h.int(
                "select count(*)::int from ops.runs where command like 'pull reservations --ping%'")
            #expect(pulls >= 1 && pulls <= deliveries.count)
            let unknown = try await h.send(
                "GET", "/webhooks/webhotelier",
                headers: ["x-wh-property": "NOPE01", "Authorization": ReceiverHarness.basicHeader])
            #expect(unknown.status == 404)
            #expect(h.metric("ping", "unknown_property") == 1)
        }
    }
}
