import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// The sandbox as a channel manager and as a Booking.com-style account, delivering to a
/// real `serve`: pushes bare and SOAP with repeats, shuffled order, changes before their
/// Commit and status clashes end with facts equal to the truth; a source that both pulls
/// and receives pushes stores each version once.
@Suite struct OpenTravelDeliveryTests {
    static let account = (username: "bdc-machine", password: "bdc-secret-1")

    static func world(_ c: inout SandboxConfiguration) {
        c.seed = 2211
        c.propertyCount = 2
        c.openTravel.pushRetryIntervalMilliseconds = 5
        // A loaded test machine has answered later than 5 s; a timed-out push is retried, and
        // after its last attempt counted failed, which these tests read as a lost push.
        c.openTravel.pushTimeoutSeconds = 30
        c.openTravel.pollIntervalSeconds = 0
        c.openTravel.pollAfterAckSeconds = 0
        c.openTravel.accounts = [
            OpenTravelAccount(
                username: account.username, password: account.password, hotels: ["HTL001", "HTL002"])
        ]
    }

    /// The current facts of `source` against the sandbox's last version of each reservation.
    static func differences(_ h: ReceiverHarness, source: String) async throws -> [String] {
        let connection = try await h.db.connect()
        _ = try await TransformRunner().run(connection)
        await connection.close()
        var truth: [String: OpenTravelReservationVersionTruth] = [:]
        for version in h.sandbox.openTravelReservations() { truth[version.id] = version }
        let facts = try await h.strings(
            """
            select confirmation_id || '|' || property_code || '|' || status || '|' || check_in || '|' || check_out
                   || '|' || coalesce(room_code, '') || '|' || coalesce(rate_id, '') || '|' || coalesce(adults, -1)
                   || '|' || coalesce(children, -1) || '|' || total_gross || '|' || currency || '|' || channel_code
            from facts.reservations where source = $1 and valid_to is null order by 1
            """, [source])
        let expected = truth.values.map { t in
            [
                t.id, t.hotel, t.status, t.arrival, t.departure, t.roomType, t.ratePlan, String(t.adults),
                String(t.children), String(format: "%d.%02d", t.totalCents / 100, t.totalCents % 100), t.currency,
                t.channel ?? source,
            ].joined(separator: "|")
        }.sorted()
        return Array(Set(facts).symmetricDifference(expected)).sorted()
    }

    @Test func pushesBareAndSOAPWithRepeatsAndShuffledOrderEndEqualToTheTruth() async throws {
        try await ReceiverHarness.with({ c in
            Self.world(&c)
            c.faults.otPushRepeatRate = 0.2
            c.faults.otPushShuffleRate = 0.2
            c.faults.otPushEarlyChangeRate = 0.5
            c.faults.otPushStatusClashRate = 0.2
            c.faults.otNoNamespaceRate = 0.1
            c.faults.deadEndpointRate = 0.1
        }) { h in
            let login = ReceiverHarness.openTravelLogin
            let url = h.baseURL + "/webhooks/opentravel/cm"
            try h.sandbox.registerWebhook(
                WebhookRegistration(
                    property: "HTL001", mode: .opentravel, url: url, username: login.username,
                    password: login.password, envelope: .bare, messages: .split))
            try h.sandbox.registerWebhook(
                WebhookRegistration(
                    property: "HTL002", mode: .opentravel, url: url, username: login.username,
                    password: login.password, envelope: .soap, messages: .notif))
            h.sandbox.advance(minutes: 8 * 60)
            await h.sandbox.waitForOpenTravelPushes()
            let pushes = h.sandbox.openTravelPushes()
            #expect(pushes.count > 10, "the world should have pushed reservations")
            #expect(pushes.allSatisfy { $0.outcome == .delivered }, "every push must end delivered")
            #expect(pushes.contains { $0.isRepeat } && pushes.contains { $0.early })
            #expect(h.metric("opentravel", "duplicate") > 0)
            let differences = try await Self.differences(h, source: "cm")
            #expect(differences.isEmpty, "facts vs truth: \(differences.prefix(6))")
            #expect(try await h.int("select count(*)::int from staging.reservation_events where is_collision") == 0)
        }
    }

    /// While `serve` reads an account whose acknowledgements keep failing (each is dropped
    /// on its way), the reservations it was served wait, and /metrics counts those past the
    /// warning age before the OTA's fallback.
    @Test func reservationsWhoseAcknowledgementsKeepFailingAreCountedInMetrics() async throws {
        try await ReceiverHarness.with(
            { c in Self.world(&c) },
            sources: { sources, environment in
                environment["BDC_ACCOUNT"] = "\(Self.account.username):\(Self.account.password)"
                guard let index = sources.firstIndex(where: { $0.name == "cm" }) else { return }
                sources[index].baseURL = sources[0].baseURL + "/hotels/ota"
                sources[index].secrets = .environment(variable: "BDC_ACCOUNT")
                sources[index].openTravel.pull = true
                sources[index].openTravel.auth = .basic
                sources[index].openTravel.pollInterval = .milliseconds(20)
                sources[index].openTravel.afterAckInterval = .milliseconds(20)
                sources[index].maxAttempts = 2
                sources[index].retryBaseDelay = .milliseconds(5)
                sources[index].retryMaxDelay = .milliseconds(10)
            }
        ) { h in
            h.sandbox.interceptOpenTravelAcks { _, _, _ in false }
            h.sandbox.advance(minutes: 180)
            let queued = min(h.sandbox.openTravelQueues().filter { $0.queue == "new" }.count, 50)
            #expect(queued > 0)
            func waiting() -> Int {
                for line in h.receiver.metricsText.split(separator: "\n")
                where line.hasPrefix("ota_opentravel_waiting_reservations{") && line.contains("source=\"cm\"") {
                    return Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
                }
                return 0
            }
            // The reservations' OTA times are the simulated world's, long past: all of them are
            // late. A condition polled; the cap only bounds a failing run (a loaded machine has
            // taken more than 30 s for the first cycles).
            let deadline = ContinuousClock.now + .seconds(180)
            while waiting() < queued, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let stored = try await h.int(
                "select count(distinct confirmation_id)::int from staging.reservation_events where source = 'cm'")
            #expect(
                waiting() >= queued,
                "metrics: \(waiting()) of \(queued) waiting; \(stored) reservations stored; acks: \(h.sandbox.openTravelAcks().count)"
            )
            #expect(h.sandbox.openTravelAcks().contains { $0.outcome == "dropped" })
            h.sandbox.interceptOpenTravelAcks(nil)
        }
    }

    /// One source whose account `serve` pulls continuously and whose channel manager pushes
    /// the same reservations: every version is stored once, whichever way came first.
    @Test func theSameReservationPulledAndPushedIsStoredOnce() async throws {
        try await ReceiverHarness.with(
            { c in Self.world(&c) },
            sources: { sources, environment in
                environment["BDC_ACCOUNT"] = "\(Self.account.username):\(Self.account.password)"
                guard let index = sources.firstIndex(where: { $0.name == "cm" }) else { return }
                sources[index].baseURL = sources[0].baseURL + "/hotels/ota"
                sources[index].secrets = .environment(variable: "BDC_ACCOUNT")
                sources[index].openTravel.pull = true
                sources[index].openTravel.auth = .bearer
                sources[index].openTravel.pollInterval = .milliseconds(20)
                sources[index].openTravel.afterAckInterval = .milliseconds(20)
                sources[index].requestsPerSecond = 5000
                sources[index].burst = 5000
            }
        ) { h in
            let login = ReceiverHarness.openTravelLogin
            try h.sandbox.registerWebhook(
                WebhookRegistration(
                    mode: .opentravel, url: h.baseURL + "/webhooks/opentravel/cm", username: login.username,
                    password: login.password, envelope: .soap, messages: .notif))
            for _ in 0..<4 {
                h.sandbox.advance(minutes: 90)
                await h.sandbox.waitForOpenTravelPushes()
            }
            // serve's pull service drains the queues on its own.
            let deadline = ContinuousClock.now + .seconds(30)
            while !h.sandbox.openTravelQueues().isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(h.sandbox.openTravelQueues().isEmpty, "serve did not drain the queues")
            #expect(h.sandbox.openTravelPushes().allSatisfy { $0.outcome == .delivered })
            #expect(h.sandbox.openTravelAcks().contains { $0.outcome == "applied" })
            let origins = try await h.strings(
                "select distinct origin from staging.reservation_events where source = 'cm' order by 1")
            #expect(origins == ["pull", "push"] || origins == ["push"], "\(origins)")
            // One row per version: never more staged versions than the sandbox made.
            var versions: [String: Int] = [:]
            for version in h.sandbox.openTravelReservations() { versions[version.id, default: 0] += 1 }
            let staged = try await h.strings(
                "select confirmation_id || ' ' || count(*) from staging.reservation_events where source = 'cm' group by confirmation_id"
            )
            let doubled = staged.filter { line in
                let parts = line.split(separator: " ")
                return Int(parts[1])! > versions[String(parts[0]), default: 0]
            }
            #expect(doubled.isEmpty, "versions stored twice: \(doubled.prefix(5))")
            #expect(try await h.int("select count(*)::int from staging.reservation_events where origin = 'push'") > 0)
            let differences = try await Self.differences(h, source: "cm")
            #expect(differences.isEmpty, "facts vs truth: \(differences.prefix(6))")
        }
    }
}
