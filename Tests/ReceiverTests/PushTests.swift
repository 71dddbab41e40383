import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// WebHotelier PUSH end to end: the sandbox delivers to a real `serve` over loopback.
@Suite struct PushTests {
    @Test func everyPushJSONAndXMLLandsOnceAndMatchesThePulledVersion() async throws {
        try await ReceiverHarness.with({ c in
            c.seed = 81
            c.propertyCount = 2
            c.faults.duplicatePushRate = 0.3
            c.faults.deadEndpointRate = 0.2
            c.webhookRetry.initialBackoffMilliseconds = 5
            c.webhookRetry.maxAttempts = 12
        }) { h in
            let codes = h.sandbox.accounts().map(\.code)
            let start = h.sandbox.now
            for (code, format) in zip(codes, [WebhookRegistration.Format.json, .xml]) {
                try h.sandbox.registerWebhook(
                    WebhookRegistration(
                        property: code, mode: .push, url: h.baseURL + "/webhooks/webhotelier", format: format,
                        username: ReceiverHarness.basic.username, password: ReceiverHarness.basic.password))
            }
            h.sandbox.advance(minutes: 12 * 60)
            await h.sandbox.waitForWebhookDeliveries()
            let deliveries = h.sandbox.webhookDeliveries()
            #expect(deliveries.count > 20, "the world should have pushed bookings")
            #expect(deliveries.allSatisfy { $0.outcome == .delivered }, "every push must end answered 200")
            #expect(deliveries.contains { $0.duplicate } && deliveries.contains { $0.attempts.count > 1 })

            // Exactly the pushed versions, once each; XML bodies typed back to the JSON the pull serves.
            var expected: [String] = []
            for version in h.sandbox.bookingVersions() where version.validFrom > start {
                expected.append(
                    "\(version.bookingID) " + (try await h.strings("select $1::jsonb::text", [version.body.text]))[0])
            }
            let staged = try await h.strings(
                "select confirmation_id || ' ' || data::text from staging.reservation_events where origin = 'push' order by 1"
            )
            #expect(staged == expected.sorted())
            #expect(
                try await h.int("select count(*)::int from staging.reservation_events where raw_format = 'xml'") > 0)
            // Every pushed booking left WebHotelier's queue.
            let queue = h.sandbox.syncQueue()
            #expect(queue.values.allSatisfy { $0.isEmpty }, "\(queue)")
            #expect(h.metric("push", "duplicate") > 0)

            // A pull of the same bookings (the recovery search reads them as they are now) lands
            // nothing new: pushed JSON, pushed XML and pulled JSON of one version hash alike.
            var env: [String: String] = [:]
            for account in h.sandbox.accounts() {
                env["WH_" + account.code] = "\(account.username):\(account.password)"
            }
            var source = SourceConfig(
                name: "webhotelier", kind: .webhotelier, baseURL: h.sandbox.baseURL!,
                secrets: .environmentPrefix("WH_"), pendingListInterval: .zero, requestsPerSecond: 5000, burst: 5000)
            source.retryBaseDelay = .milliseconds(10)
            let pull = try await PullRunner(
                databaseURL: h.db.url, config: IngestConfig(sources: [source]), sourceName: nil,
                clock: WallClock(pinned: h.sandbox.now), secrets: SecretResolver(environment: env)
            ).run(.reservations(since: CivilDate(start)))
            #expect(pull.counts["records"]! > 0)
            #expect(pull.counts["landed"] == 0, "pull landed new versions: \(pull.summary)")
        }
    }

    @Test func aRepeatedDeliveryIsANoOpAndANewWithOtherContentIsACollision() async throws {
        try await ReceiverHarness.with { h in
            let headers: HTTPHeaders = [
                "Content-Type": "application/json", "Authorization": ReceiverHarness.basicHeader,
            ]
            let first = try await h.send("POST", "/webhooks/webhotelier", headers: headers, body: pushJSON(id: 9001))
            #expect(first.status == 200, "\(first.bodyText)")
            let again = try await h.send("POST", "/webhooks/webhotelier", headers: headers, body: pushJSON(id: 9001))
            #expect(again.status == 200 && again.bodyText.contains("duplicate"))
            let other = try await h.send(
                "POST", "/webhooks/webhotelier", headers: headers, body: pushJSON(id: 9001, status: 0))
            #expect(other.status == 200 && other.bodyText.contains("collision"), "\(other.bodyText)")
            #expect(try await h.int("select count(*)::int from staging.reservation_events") == 2)
            #expect(try await h.int("select count(*)::int from staging.reservation_events where is_collision") == 1)
            #expect(h.metric("push", "collision") == 1)
            #expect(try await h.send("GET", "/readyz").status == 200)
            let metrics = try await h.send("GET", "/metrics")
            #expect(metrics.bodyText.contains(#"ota_receiver_requests_total{endpoint="push",outcome="stored"} 1"#))
            #expect(metrics.bodyText.contains("ota_receiver_commit_latency_seconds_bucket"))
        }
    }

    /// Each client reads staging, on a connection of its own, the moment each 200 arrives:
    /// an answer sent before its body's commit shows up as a booking not there yet.
    @Test func concurrentPushesShareCommitsAndEachIsStoredBeforeItsAnswer() async throws {
        try await ReceiverHarness.with { h in
            let headers: HTTPHeaders = [
                "Content-Type": "application/json", "Authorization": ReceiverHarness.basicHeader,
            ]
            let (ok, notYetStored) = try await withThrowingTaskGroup(of: (Int, [Int]).self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        let session = HTTPSession()
                        let reader = try await h.db.connect()
                        var ok = 0
                        var notYetStored: [Int] = []
                        for n in 0..<25 {
                            let id = 100_000 + worker * 100 + n
                            let response = try await h.send(
                                "POST", "/webhooks/webhotelier", headers: headers, body: pushJSON(id: id),
                                session: session)
                            guard response.status == 200 else { continue }
                            ok += 1
                            let stored = try await reader.query(
                                "select 1 from staging.reservation_events where confirmation_id = $1", [String(id)])
                            if stored.isEmpty { notYetStored.append(id) }
                        }
                        await reader.close()
                        return (ok, notYetStored)
                    }
                }
                return try await group.reduce(into: (0, [Int]())) { total, worker in
                    total.0 += worker.0
                    total.1 += worker.1
                }
            }
            #expect(ok == 400)
            #expect(notYetStored.isEmpty, "answered 200 before their bodies were committed: \(notYetStored)")
            #expect(try await h.int("select count(*)::int from staging.reservation_events") == 400)
            // Group commit: fewer commits than requests (the histogram's count is the number of commits).
            let text = h.receiver.metricsText
            let commits = text.split(separator: "\n").first { $0.hasPrefix("ota_receiver_commit_batch_size_count") }
            let count = commits.flatMap { Int(Double($0.split(separator: " ").last ?? "") ?? 0) } ?? 0
            #expect(count > 0 && count < 400, "commits: \(count)")
        }
    }
}
