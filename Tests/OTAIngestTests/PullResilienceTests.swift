import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import TestSupport
import Testing

/// Faults, crashes and concurrency must not change what lands.
@Suite struct PullResilienceTests {
    private static func world(_ c: inout SandboxConfiguration) {
        c.seed = 41
        c.propertyCount = 2
        c.faults.malformedRecordRate = 0.01
        c.activity.priceDrift = 0
    }

    /// One clean, fault-free pull of everything, for comparison.
    private static func cleanFingerprint(advancedBy minutes: Int) async throws -> [String: [String]] {
        var fingerprint: [String: [String]] = [:]
        try await PullHarness.with(Self.world) { h in
            h.server.advance(minutes: minutes)
            try await h.pull(.reservations(since: nil))
            try await h.pull(.feeds([.availability, .rates]))
            try await h.pull(.inventory)
            fingerprint = try await h.stagingFingerprint()
        }
        return fingerprint
    }

    @Test func everyTransportFaultAtTenPercentChangesNothing() async throws {
        let clean = try await Self.cleanFingerprint(advancedBy: 720)
        try await PullHarness.with({ c in
            Self.world(&c)
            c.faults.serverErrorRate = 0.1
            c.faults.unavailableBurstRate = 0.1
            c.faults.unavailableBurstLength = 2
            c.faults.rateLimitStormRate = 0.1
            c.faults.rateLimitStormLength = 1
            c.faults.retryAfterSeconds = 1
            c.faults.latencyRate = 0.1
            c.faults.latencyMilliseconds = 50
            c.faults.slowBodyRate = 0.1
            c.faults.slowBodyChunkDelayMilliseconds = 5
            c.faults.connectionResetRate = 0.1
            c.faults.truncatedBodyRate = 0.1
        }) { h in
            h.server.advance(minutes: 720)
            var retries = 0
            for job in [PullRunner.Job.reservations(since: nil), .feeds([.availability, .rates]), .inventory] {
                let outcome = try await h.pull(job)
                if outcome.status == .failure { Issue.record("\(outcome.summary)") }
                retries += outcome.counts["retries"] ?? 0
            }
            #expect(retries > 0, "the faults should have forced retries")
            let faults = h.server.stats().faults
            for kind in ["server_error", "unavailable", "rate_limited", "connection_reset", "truncated_body"] {
                #expect((faults[kind] ?? 0) > 0, "fault \(kind) never fired")
            }
            expectSameStaging(try await h.stagingFingerprint(), clean)
        }
    }

    /// Runs each pull to completion through the CLI, as one clean run would.
    private static func cleanCLIFingerprint(advancedBy minutes: Int, kinds: [String]) async throws -> [String: [String]]
    {
        var fingerprint: [String: [String]] = [:]
        try await PullHarness.with(killWorld) { h in
            h.server.advance(minutes: minutes)
            let config = try h.writeConfig(stayWindowDays: 365, chunkDays: 3, pageSize: 100)
            for kind in kinds {
                let outcome = try await CommandLineRunner.run(
                    h.cliArguments(kind, config: config), environment: h.environment)
                #expect([0, 3].contains(outcome.status), "\(kind): \(outcome.stderr)")
            }
            fingerprint = try await h.stagingFingerprint()
        }
        return fingerprint
    }

    /// A bigger world, so a pull takes long enough to be killed at many points.
    private static func killWorld(_ c: inout SandboxConfiguration) {
        world(&c)
        c.propertyCount = 4
    }

    @Test func killedTwentyTimesThenRerunEqualsOneCleanRun() async throws {
        let kills = Torture.trials(short: 20, full: 80)
        let kinds = ["rates", "inventory", "reservations"]
        let clean = try await Self.cleanCLIFingerprint(advancedBy: 720, kinds: kinds)
        try await PullHarness.with(Self.killWorld) { h in
            h.server.advance(minutes: 720)
            let config = try h.writeConfig(stayWindowDays: 365, chunkDays: 3, pageSize: 100)
            var generator = SystemRandomNumberGenerator()
            var killed = 0
            var finished = Set<String>()
            // Kill each pull at random points until it manages to finish on its own; a
            // finished run is the "one clean run", so that kind is not started again.
            while killed < kills && finished.count < kinds.count {
                let kind = kinds.filter { !finished.contains($0) }.randomElement(using: &generator)!
                let child = try ChildProcess(h.cliArguments(kind, config: config), environment: h.environment)
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...300, using: &generator)))
                if child.isRunning {
                    child.kill()
                    killed += 1
                }
                _ = try await child.wait()
                if child.exitedNormally { finished.insert(kind) }
            }
            #expect(killed >= min(kills, 20), "runs should have been killed mid-way (killed \(killed))")
            for kind in kinds where !finished.contains(kind) {
                let outcome = try await CommandLineRunner.run(
                    h.cliArguments(kind, config: config), environment: h.environment)
                #expect([0, 3].contains(outcome.status), "\(kind): \(outcome.stderr)")
            }
            let staged = try await h.stagingFingerprint()
            expectSameStaging(staged, clean)
            // Landed means synced, and synced means landed: the queue is empty and staging matches.
            let queue = try await HTTPProbe.get(h.baseURL + "/_sandbox/truth/queue")
            #expect(!queue.contains("\"id\""), "bookings left in the queue: \(queue.prefix(300))")
            let leftInQueue = h.server.syncQueue().values.map(\.count).reduce(0, +)
            let differing = Set(staged.keys).union(clean.keys).map {
                Torture.difference(staged[$0] ?? [], clean[$0] ?? [])
            }.reduce(0, +)
            Torture.record(
                "SIGKILL of pull (reservations, rates, inventory) at random points, rerun vs one clean run",
                trials: killed, violations: differing + leftInQueue,
                note: "staging multiset of (key, content) vs a clean run; bookings left unsynced")
        }
    }

    @Test func twoConcurrentPullsOfOnePropertyDoubleNothing() async throws {
        try await PullHarness.with(Self.world) { h in
            h.server.advance(minutes: 720)
            let config = try h.writeConfig()
            let outcomes = try await withThrowingTaskGroup(of: CommandLineRunner.Outcome.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await CommandLineRunner.run(
                            h.cliArguments("reservations", config: config), environment: h.environment)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for outcome in outcomes { #expect([0, 3].contains(outcome.status), "\(outcome.stderr)") }
            let doubled = try await h.int(
                """
                select count(*)::int from (select 1 from staging.reservation_events
                group by confirmation_id, content_hash having count(*) > 1) d
                """)
            #expect(doubled == 0)
            let batches = try await h.int(
                "select count(*)::int - count(distinct (property_code, batch_range))::int from ops.batches where stream = 'reservations'"
            )
            #expect(batches == 0, "no booking was landed by both processes")
        }
    }
}

/// A plain GET for the sandbox's own endpoints.
enum HTTPProbe {
    static func get(_ url: String) async throws -> String {
        try await HTTPSession().send(HTTPClientRequest(url: url)).bodyText
    }
}
