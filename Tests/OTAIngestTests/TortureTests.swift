import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// The invariants under faults (`make torture`; a few trials of each in `make test`).
/// Every scenario counts its violations, which must be zero, and reports them.
@Suite struct TortureTests {
    static func world(_ c: inout SandboxConfiguration) {
        c.seed = 91
        c.propertyCount = 3
        c.faults.malformedRecordRate = 0.01
        c.activity.priceDrift = 0
    }

    /// Facts as text rows, sorted: equal fingerprints mean equal facts.
    static func factsFingerprint(_ url: String) async throws -> [String] {
        let connection = try await PostgresConnection.connect(url)
        var lines: [String] = []
        for table in [
            "facts.reservations", "facts.reservation_nights", "facts.reservation_transactions", "facts.availability",
            "facts.rates",
        ] {
            // Table names come from the fixed list above, never from input.
            lines += try await connection.query("select t::text from \(table) t order by 1").map {
                "\(table) " + (try $0.decode(String.self, at: 0))
            }
        }
        await connection.close()
        return lines
    }

    /// Of the bookings queued before the pull (`wasQueued`), those the sandbox no longer
    /// queues but staging does not hold: acknowledged, not stored.
    static func syncedNotStored(_ h: PullHarness, wasQueued: Set<Int>) async throws -> Int {
        let queued = Set(h.server.syncQueue().values.flatMap { $0 })
        let stored = Set(try await h.strings("select distinct confirmation_id::text from staging.reservation_events"))
        return wasQueued.subtracting(queued).filter { !stored.contains(String($0)) }.count
    }

    @Test func sigkillOfTransformAtRandomPointsThenARerunEqualsAFullRefresh() async throws {
        let trials = Torture.trials(short: 3, full: 25)
        try await PullHarness.with(Self.world) { h in
            h.server.advance(minutes: 24 * 60)
            try await h.pull(.reservations(since: nil))
            try await h.pull(.feeds([.availability, .rates]))
            try await h.pull(.inventory)
            var generator = SystemRandomNumberGenerator()
            var killed = 0
            for _ in 0..<trials {
                let child = try ChildProcess(["transform", "--database-url", h.db.url])
                try await Task.sleep(for: .milliseconds(Int.random(in: 20...1500, using: &generator)))
                if child.isRunning {
                    child.kill()
                    killed += 1
                }
                _ = try await child.wait()
            }
            let rerun = try await CommandLineRunner.run(["transform", "--database-url", h.db.url])
            #expect(rerun.status == 0, "\(rerun.stderr)")
            let afterKills = try await Self.factsFingerprint(h.db.url)
            let refresh = try await CommandLineRunner.run(["transform", "--full-refresh", "--database-url", h.db.url])
            #expect(refresh.status == 0, "\(refresh.stderr)")
            let violations = Torture.difference(afterKills, try await Self.factsFingerprint(h.db.url))
            Torture.record(
                "SIGKILL of transform at random points, rerun vs full refresh", trials: trials, violations: violations,
                note: "\(killed) killed mid-way")
            #expect(violations == 0)
        }
    }

    @Test func sigkillOfLoadAtRandomPointsThenARerunEqualsOneCleanLoad() async throws {
        let trials = Torture.trials(short: 3, full: 20)
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("rates.ndjson")
        try BackfillFixtures.write(
            BackfillFixtures.ndjson(BackfillFixtures.rates(count: 60_000, seed: 5, badEvery: 997)), to: file)
        var clean: [String] = []
        try await BackfillDatabase.with { b in
            _ = try await b.load(["rates", "--source", "acme", "--file", file.path])
            clean = try await Self.loadFingerprint(b)
        }
        try await BackfillDatabase.with { b in
            var generator = SystemRandomNumberGenerator()
            var killed = 0
            for _ in 0..<trials {
                let child = try ChildProcess(
                    ["load", "rates", "--source", "acme", "--file", file.path, "--database-url", b.db.url])
                try await Task.sleep(for: .milliseconds(Int.random(in: 20...800, using: &generator)))
                if child.isRunning {
                    child.kill()
                    killed += 1
                }
                let outcome = try await child.wait()
                // A load that finished is the one clean run: stop there.
                if child.exitedNormally && [0, 3].contains(outcome.status) { break }
            }
            _ = try await b.load(["rates", "--source", "acme", "--file", file.path])
            let violations = Torture.difference(try await Self.loadFingerprint(b), clean)
            Torture.record(
                "SIGKILL of load at random points, rerun vs one clean load", trials: trials, violations: violations,
                note: "\(killed) killed mid-way")
            #expect(violations == 0)
        }
    }

    static func loadFingerprint(_ b: BackfillDatabase) async throws -> [String] {
        try await b.strings(
            """
            select concat_ws('|', property_code, rate_id, room_code, stay_date, adults, children, price, currency)
            from staging.rate_observations
            union all
            select 'dead ' || encode(raw, 'hex') from ops.dead_letters
            order by 1
            """)
    }

    @Test func postgresRestartedFastAndImmediatelyInTheMiddleOfAPullLosesNothingAcknowledged() async throws {
        let trials = Torture.trials(short: 2, full: 8)
        var violations = 0
        for trial in 0..<trials {
            try await PullHarness.withScratchCluster({ c in
                c.seed = UInt64(93 + trial)
                c.propertyCount = 4
                c.faults.latencyRate = 1
                c.faults.latencyMilliseconds = 3
            }) { h, cluster in
                h.server.advance(minutes: 24 * 60)
                let config = try h.writeConfig(stayWindowDays: 120, chunkDays: 5)
                let wasQueued = Set(h.server.syncQueue().values.flatMap { $0 })
                let child = try ChildProcess(h.cliArguments("reservations", config: config), environment: h.environment)
                try await Task.sleep(for: .milliseconds(Int.random(in: 100...600)))
                if trial % 2 == 0 { try await cluster.stopImmediately() } else { try await cluster.stopFast() }
                try await cluster.startServer()
                let first = try await child.wait()
                #expect([0, 1, 3].contains(first.status), "the pull must fail cleanly or finish: \(first.stderr)")
                // Right after the restart, before any rerun: nothing the OTA forgot is missing.
                let lost = try await Self.syncedNotStored(h, wasQueued: wasQueued)
                if lost > 0 { Issue.record("trial \(trial): \(lost) synced, not stored; first run: \(first.stderr)") }
                let rerun = try await CommandLineRunner.run(
                    h.cliArguments("reservations", config: config), environment: h.environment)
                #expect([0, 3].contains(rerun.status), "\(rerun.stderr)")
                let lostAfter = try await Self.syncedNotStored(h, wasQueued: wasQueued)
                let queued = h.server.syncQueue().values.map(\.count).reduce(0, +)
                if lostAfter + queued > 0 {
                    Issue.record("trial \(trial): after rerun \(lostAfter) lost, \(queued) queued; \(rerun.stderr)")
                }
                violations += lost + lostAfter + queued
            }
        }
        Torture.record(
            "PostgreSQL restarted (fast and immediate) in the middle of a pull", trials: trials, violations: violations,
            note: "synced-not-stored after the crash and after the rerun, plus bookings left queued")
        #expect(violations == 0)
    }

    @Test func everySandboxFaultAtTwentyPercentStillCompletesWithExactlyTheMalformedAsDeadLetters() async throws {
        let trials = Torture.trials(short: 1, full: 3)
        var violations = 0
        for trial in 0..<trials {
            try await PullHarness.with({ c in
                c.seed = UInt64(101 + trial)
                c.propertyCount = 2
                c.activity.priceDrift = 0
                c.faults.malformedRecordRate = 0.2
                c.faults.serverErrorRate = 0.2
                c.faults.unavailableBurstRate = 0.2
                c.faults.unavailableBurstLength = 2
                c.faults.rateLimitStormRate = 0.2
                c.faults.rateLimitStormLength = 1
                c.faults.retryAfterSeconds = 0
                c.faults.connectionResetRate = 0.2
                c.faults.truncatedBodyRate = 0.2
                c.faults.slowBodyRate = 0.2
                c.faults.slowBodyChunkDelayMilliseconds = 1
                c.faults.latencyRate = 0.2
                c.faults.latencyMilliseconds = 5
                c.faults.duplicatePageRecordRate = 0.2
                c.faults.lostSyncAnswerRate = 0.2
                c.faults.repeatSyncedIdRate = 0.2
                c.faults.notPendingAnswers404 = 1
            }) { h in
                h.server.advance(minutes: 12 * 60)
                // Five independent faults at 20% fail an attempt 1 - 0.8^5 = 67% of the time,
                // so 20 attempts still fail one request in 3,000 (a run makes hundreds: it
                // failed one trial in ten). 50 attempts fail one in 500 million.
                let budget: (inout SourceConfig) -> Void = { $0.maxAttempts = 50 }
                for job in [PullRunner.Job.reservations(since: nil), .feeds([.availability, .rates]), .inventory] {
                    let outcome = try await h.pull(job, budget)
                    if outcome.status == .failure {
                        violations += 1
                        Issue.record("\(outcome.summary)")
                    }
                }
                let today = CivilDate(h.server.now)
                let window = today...today.adding(days: 44)
                let expected = h.server.malformedRecords().filter { record in
                    switch record.surface {
                    case .availability, .rates: return window.contains(CivilDate(record.date!)!)
                    case .inventory: return true
                    case .bookings: return false
                    }
                }.count
                let feedLetters = try await h.int(
                    "select count(*)::int from ops.dead_letters where stream in ('availability', 'rates', 'inventory')")
                if feedLetters != expected { Issue.record("feed dead letters \(feedLetters), malformed \(expected)") }
                violations += abs(feedLetters - expected)
            }
        }
        Torture.record(
            "every sandbox fault at 20% (retry budget 50)", trials: trials, violations: violations,
            note: "failed pulls, plus the difference between feed dead letters and malformed feed records")
        #expect(violations == 0)
    }

    @Test func aStatementTimeoutAndATempFileLimitRollBackWithOneClearErrorAndARerunRecovers() async throws {
        try await PullHarness.with(Self.world) { h in
            h.server.advance(minutes: 24 * 60)
            try await h.pull(.feeds([.availability, .rates]))
            try await h.pull(.reservations(since: nil))
            var violations = 0
            var paths: [String] = []
            for (name, options, expected) in [
                ("statement_timeout", "-c statement_timeout=20", "canceling statement due to statement timeout"),
                ("temp_file_limit", "-c temp_file_limit=0 -c work_mem=64kB", "temp_file_limit"),
            ] {
                let before = try await Self.factsFingerprint(h.db.url)
                let failed = try await CommandLineRunner.run(
                    ["transform", "--database-url", h.db.url], environment: ["PGOPTIONS": options])
                let lines = failed.stderr.split(separator: "\n").filter { $0.hasPrefix("ota-ingest:") }
                if failed.status != 1 || lines.count != 1 || !failed.stderr.contains(expected) {
                    violations += 1
                    Issue.record("\(name): exit \(failed.status), stderr \(failed.stderr)")
                }
                let changed = Torture.difference(before, try await Self.factsFingerprint(h.db.url))
                // Either the promotion failed and rolled back (facts unchanged), or it committed and a
                // check could not run, which the one error line must say.
                if failed.stderr.contains("the promotion committed") {
                    paths.append("\(name): a check failed after the promotion committed")
                } else {
                    paths.append("\(name): the promotion rolled back")
                    if changed > 0 { Issue.record("\(name): the failed transform changed \(changed) fact rows") }
                    violations += changed
                }
            }
            let rerun = try await CommandLineRunner.run(["transform", "--database-url", h.db.url])
            #expect(rerun.status == 0, "\(rerun.stderr)")
            let recovered = try await Self.factsFingerprint(h.db.url)
            violations += try await Self.failures(["transform", "--full-refresh", "--database-url", h.db.url])
            let refreshed = try await Self.factsFingerprint(h.db.url)
            let differ = Torture.difference(recovered, refreshed)
            if differ > 0 {
                let a = Set(recovered).subtracting(refreshed).sorted().prefix(2)
                let b = Set(refreshed).subtracting(recovered).sorted().prefix(2)
                Issue.record("rerun vs full refresh: \(differ) rows; \(a) vs \(b)")
            }
            violations += differ
            Torture.record(
                "statement timeout and temp_file_limit during a transform (temp_file_limit: no tmpfs mount here)",
                trials: 2, violations: violations, note: paths.joined(separator: "; ") + "; rerun equals a full refresh"
            )
            #expect(violations == 0)
        }
    }

    /// Runs `ota-ingest arguments`; 1 (and a recorded issue) when it did not exit 0. A transform
    /// that failed leaves the facts as they were, and a comparison after it would compare a
    /// state with itself.
    static func failures(_ arguments: [String]) async throws -> Int {
        let run = try await CommandLineRunner.run(arguments)
        guard run.status != 0 else { return 0 }
        Issue.record("ota-ingest \(arguments.prefix(2).joined(separator: " ")): exit \(run.status), \(run.stderr)")
        return 1
    }

    @Test func aTransformBesideAPullAndTwoTransformsAtOnceDoubleNothing() async throws {
        try await PullHarness.with(Self.world) { h in
            h.server.advance(minutes: 24 * 60)
            try await h.pull(.reservations(since: nil))
            let config = try h.writeConfig(stayWindowDays: 120, chunkDays: 5)
            let outcomes = try await withThrowingTaskGroup(of: CommandLineRunner.Outcome.self) { group in
                group.addTask {
                    try await CommandLineRunner.run(h.cliArguments("rates", config: config), environment: h.environment)
                }
                for _ in 0..<2 {
                    group.addTask { try await CommandLineRunner.run(["transform", "--database-url", h.db.url]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            var violations = outcomes.filter { ![0, 3].contains($0.status) }.count
            violations += try await Self.failures(["transform", "--database-url", h.db.url])
            let incremental = try await Self.factsFingerprint(h.db.url)
            violations += try await Self.failures(["transform", "--full-refresh", "--database-url", h.db.url])
            violations += Torture.difference(incremental, try await Self.factsFingerprint(h.db.url))
            violations += try await h.int(
                """
                select count(*)::int from (select 1 from facts.rates where valid_to is null
                group by property_code, rate_id, room_code, stay_date, adults, children, channel having count(*) > 1) d
                """)
            Torture.record(
                "a pull and two transforms started at once", trials: 1, violations: violations,
                note: "failed runs, facts vs a full refresh, doubled current rows")
            #expect(violations == 0, "\(outcomes.map(\.stderr))")
        }
    }
}
