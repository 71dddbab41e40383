import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import Synchronization
import TestSupport
import Testing

/// OpenTravel queues pulled and acknowledged against the sandbox's Booking.com-style API,
/// over real sockets, with its faults; the end state is compared with the sandbox's truth.
@Suite struct OpenTravelPullTests {
    static let login = (username: "bdc-machine", password: "bdc-secret-1")

    static func world(_ c: inout SandboxConfiguration) {
        c.seed = 2203
        c.propertyCount = 2
        c.minimumPendingIntervalMinutes = 0
        c.openTravel.accounts = [
            OpenTravelAccount(
                username: login.username, password: login.password, hotels: ["HTL001", "HTL002"], basicAllowed: true)
        ]
        c.openTravel.pollIntervalSeconds = 0
        c.openTravel.pollAfterAckSeconds = 0
    }

    static func source(_ h: PullHarness, auth: OTAIngest.OpenTravelSettings.Auth = .bearer) -> SourceConfig {
        var source = SourceConfig(
            name: "bdc", kind: .opentravel, baseURL: h.baseURL + "/hotels/ota",
            secrets: .environment(variable: "BDC_ACCOUNT"), requestsPerSecond: 5000, burst: 5000, maxAttempts: 20)
        source.retryBaseDelay = .milliseconds(5)
        source.retryMaxDelay = .milliseconds(50)
        source.openTravel.auth = auth
        source.openTravel.pollInterval = .milliseconds(10)
        source.openTravel.afterAckInterval = .milliseconds(10)
        return source
    }

    static let environment = ["BDC_ACCOUNT": "\(login.username):\(login.password)"]

    @discardableResult
    static func pull(_ h: PullHarness, auth: OTAIngest.OpenTravelSettings.Auth = .bearer) async throws
        -> PullRunner.Outcome
    {
        try await PullRunner(
            databaseURL: h.db.url, config: IngestConfig(sources: [source(h, auth: auth)]), sourceName: "bdc",
            clock: .system, forceNewRun: true, secrets: SecretResolver(environment: environment)
        ).run(.reservations(since: nil))
    }

    /// Pulls until both queues are empty (a run cut short by an injected 403 or a
    /// retry budget is simply run again, as cron would).
    static func drain(_ h: PullHarness, auth: OTAIngest.OpenTravelSettings.Auth = .bearer) async throws {
        for _ in 0..<40 {
            _ = try? await pull(h, auth: auth)
            if h.server.openTravelQueues().isEmpty { return }
        }
    }

    /// The warehouse's current version of every reservation against the sandbox's last
    /// version, field by field; "" when they agree.
    static func differences(_ h: PullHarness, source: String = "bdc") async throws -> [String] {
        let connection = try await h.db.connect()
        _ = try await TransformRunner().run(connection)
        await connection.close()
        var truth: [String: OpenTravelReservationVersionTruth] = [:]
        for version in h.server.openTravelReservations() { truth[version.id] = version }
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
                String(t.children), money(t.totalCents), t.currency, t.channel ?? source,
            ].joined(separator: "|")
        }.sorted()
        return Array(Set(facts).symmetricDifference(expected)).sorted()
    }

    /// Every id an acknowledgement removed from a queue was stored first, in that version
    /// (its LastModifyDateTime is a staged version's OTA time).
    static func ackedButNotStored(_ h: PullHarness) async throws -> [String] {
        var missing: [String] = []
        for ack in h.server.openTravelAcks() {
            for line in ack.lines where line.result == "removed" {
                let stored = try await h.int(
                    """
                    select count(*)::int from staging.reservation_events
                    where source = 'bdc' and confirmation_id = $1 and ota_time = $2::timestamptz
                    """, [line.id, line.lastModify.map(Timestamps.format)])
                if stored == 0 { missing.append("\(line.id)@\(line.lastModify.map(Timestamps.format) ?? "?")") }
            }
        }
        return missing
    }

    /// Staged versions per reservation never outnumber the sandbox's, and each stands once.
    static func doubled(_ h: PullHarness) async throws -> [String] {
        var versions: [String: Int] = [:]
        for version in h.server.openTravelReservations() { versions[version.id, default: 0] += 1 }
        let staged = try await h.strings(
            """
            select confirmation_id || ' ' || count(*) || ' ' || count(distinct content_hash)
            from staging.reservation_events where source = 'bdc' group by confirmation_id
            """)
        return staged.filter { line in
            let parts = line.split(separator: " ")
            let count = Int(parts[1])!
            return count != Int(parts[2])! || count > versions[String(parts[0]), default: 0]
        }
    }

    /// A reservation the queue serves malformed on every read (an unknown currency) is left
    /// queued and read again `validation_retries` (3) times, then its XML goes to dead letters
    /// and it is acknowledged, so the queue does not stick; the others land as usual.
    @Test func aReservationFailingValidationIsReadAgainThenDeadLetteredAndAcknowledged() async throws {
        try await PullHarness.with({ c in
            Self.world(&c)
            c.faults.malformedRecordRate = 0.2
        }) { h in
            h.server.advance(minutes: 240)
            let malformed = Set(
                h.server.malformedRecords().compactMap { r in r.bookingID.map { "\($0)#\(r.version ?? 0)" } })
            let queued = h.server.openTravelQueues()
            let broken = Set(queued.filter { malformed.contains("\($0.id)#\($0.version)") }.map(\.id))
            #expect(!broken.isEmpty && broken.count < queued.count, "the world should have broken some, not all")
            let outcome = try await Self.pull(h)
            #expect(h.server.openTravelQueues().isEmpty, "the queues stuck")
            #expect(outcome.counts["validation_retries"] == 3 * broken.count, "\(outcome.counts)")
            let letters = try await h.strings(
                """
                select record_key || ' ' || property_code || ' ' || (reason like '%refused on all 4 reads%')
                       || ' ' || (position('CurrencyCode="EUX"' in convert_from(raw, 'UTF8')) > 0)
                from ops.dead_letters where source = 'bdc' order by 1
                """)
            let hotels = Dictionary(queued.map { ($0.id, $0.hotel) }, uniquingKeysWith: { a, _ in a })
            #expect(letters == broken.sorted().map { "\($0) \(hotels[$0]!) true true" }, "\(letters)")
            // Acknowledged once refused for good: removed from the queue by an acknowledgement.
            let removed = Set(
                h.server.openTravelAcks().flatMap { $0.lines.filter { $0.result == "removed" }.map(\.id) })
            #expect(broken.isSubset(of: removed))
            #expect(
                try await h.int(
                    "select count(*)::int from staging.reservation_events where data->'pricing'->>'currency' = 'EUX'")
                    == 0)
            #expect(try await Self.ackedButNotStored(h).count == broken.count, "only the dead letters are unstaged")
        }
    }

    @Test func pullsWithEveryFaultAtTenPercentEndEqualToTheTruth() async throws {
        try await PullHarness.with({ c in
            Self.world(&c)
            c.faults.serverErrorRate = 0.1
            c.faults.connectionResetRate = 0.1
            c.faults.truncatedBodyRate = 0.1
            c.faults.otUnauthorizedRate = 0.1
            c.faults.otForbiddenRate = 0.1
            c.faults.otLostAckAnswerRate = 0.1
            c.faults.otNoNamespaceRate = 0.1
            c.faults.latencyRate = 0.1
            c.faults.latencyMilliseconds = 20
            // Tokens live 61 s: the client, refreshing a minute early, takes a new one about every second.
            c.openTravel.tokenLifetimeSeconds = 61
        }) { h in
            // The world moves between a read and its acknowledgement (at the moment the
            // acknowledgement arrives, before it is applied) until a reservation in it has
            // changed since it was served, within 600 simulated minutes a round: stale
            // acknowledgements, and queues that refill while the pulls run.
            let moved = MovedMinutes()
            h.server.observeOpenTravelAcks { _, _, ids in
                let acknowledged = Set(ids)
                func changedSinceServed() -> Bool {
                    h.server.openTravelQueues().contains {
                        acknowledged.contains($0.id) && $0.servedRevision != $0.revision
                    }
                }
                while !changedSinceServed(), moved.take(20) { h.server.advance(minutes: 20) }
            }
            // Four rounds, and more (up to ten) until an acknowledgement has gone stale and one's
            // answer has been lost: the faults are drawn from one seeded sequence shared with every
            // other response, so how many acknowledgements meet one depends on the run's timing
            // (token refreshes interleave), and four rounds sometimes met none.
            var rounds = 0
            repeat {
                h.server.advance(minutes: 60)
                moved.reset(limit: 600)
                // Runs cut short by a fault are run again, as cron would, until the queues are empty.
                try await Self.drain(h)
                rounds += 1
            } while rounds < 4
                || (rounds < 10
                    && !(h.server.openTravelAcks().contains { $0.outcome == "stale" }
                        && h.server.openTravelAcks().contains { $0.answer != "sent" }))
            h.server.observeOpenTravelAcks(nil)
            h.server.setFaults(FaultSettings())
            try await Self.drain(h)
            #expect(h.server.openTravelQueues().isEmpty, "queues not drained")
            let acks = h.server.openTravelAcks()
            #expect(acks.contains { $0.outcome == "stale" }, "the world should have made some acknowledgement stale")
            #expect(acks.contains { $0.answer != "sent" }, "some acknowledgement answers should have been lost")
            let unstored = try await Self.ackedButNotStored(h)
            if let first = unstored.first?.split(separator: "@").first.map(String.init) {
                let rows = try await h.strings(
                    "select event_type || ' ' || ota_time || ' ' || (data->>'status') || ' ' || batch_id from staging.reservation_events where confirmation_id = $1 order by event_id",
                    [first])
                var lines: [String] = []
                for ack in h.server.openTravelAcks() {
                    for line in ack.lines where line.id == first {
                        let text =
                            "ack \(ack.seq) \(ack.queue) \(ack.http) \(ack.outcome) \(ack.answer) \(line.result) \(String(describing: line.version)) \(String(describing: line.lastModify))"
                        lines.append(text)
                    }
                }
                for t in h.server.openTravelReservations() where t.id == first {
                    let text = "truth \(t.version) \(t.event) \(t.lastModify) \(t.status)"
                    lines.append(text)
                }
                Issue.record("\(first): staged \(rows) \(lines)")
            }
            #expect(unstored.isEmpty, "acknowledged, not stored: \(unstored.prefix(6))")
            #expect(try await Self.doubled(h).isEmpty)
            let differences = try await Self.differences(h)
            #expect(differences.isEmpty, "facts vs truth: \(differences.prefix(6))")
            #expect(h.server.openTravelReservations().count > 10, "the world should have made reservations")
        }
    }
}

/// Simulated minutes the acknowledgement observer may still move the world in this round.
private final class MovedMinutes: Sendable {
    private let left = Mutex(0)

    func reset(limit: Int) { left.withLock { $0 = limit } }

    func take(_ minutes: Int) -> Bool {
        left.withLock {
            guard $0 >= minutes else { return false }
            $0 -= minutes
            return true
        }
    }
}
