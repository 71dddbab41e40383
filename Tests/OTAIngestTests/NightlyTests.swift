import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// `ota-ingest nightly` and `ota-ingest status` as cron runs them: child
/// processes against the real server and an in-process sandbox.
@Suite("Nightly")
struct NightlyTests {
    static let steps = [
        "pull reservations webhotelier", "pull rates webhotelier", "pull inventory acme", "transform",
        "reconcile webhotelier", "reconcile acme", "checks", "retention", "guest data aging",
    ]

    static func world(_ c: inout SandboxConfiguration) {
        c.propertyCount = 2
        c.initialBookingsPerProperty = 4
    }

    /// A deployment's config for the harness's sandbox. The feed interval is long, as in
    /// production, so reconcile reuses the night's feed read instead of reading again.
    static func config(_ h: PullHarness) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nightly-\(UUID().uuidString).toml")
        try """
        [sources.webhotelier]
        kind = "webhotelier"
        base_url = "\(h.baseURL)"
        credentials_env_prefix = "WH_"
        pending_interval_minutes = 0
        feed_interval_minutes = 600
        stay_window_days = 30
        chunk_days = 10
        requests_per_second = 5000
        burst = 5000
        max_attempts = 3
        retry_base_ms = 20
        retry_max_ms = 100
        request_timeout_seconds = 20

        [sources.acme]
        kind = "cursor"
        base_url = "\(h.baseURL)/v2"
        token_env = "FEED_TOKEN"
        page_size = 1000
        requests_per_second = 5000
        burst = 5000
        max_attempts = 3
        retry_base_ms = 20
        retry_max_ms = 100
        """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A deployment seeds dims once; without it the rate plans' rooms are unknown.
    static func seed(_ h: PullHarness) async throws {
        let connection = try await h.db.connect()
        _ = try await SeedLoader().load(
            from: WarehouseFixture.repositoryRoot.appendingPathComponent("seeds"), into: connection)
        await connection.close()
    }

    static func arguments(_ h: PullHarness, _ config: URL, _ extra: [String] = []) -> [String] {
        ["nightly", "--config", config.path, "--database-url", h.db.url, "--now", Timestamps.format(h.server.now)]
            + extra
    }

    static func waitUntil(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within 90 s")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Staging as multisets of (key, content), and facts without load times or ids.
    static func fingerprint(_ h: PullHarness) async throws -> [String: [String]] {
        var print = try await h.stagingFingerprint()
        print["facts.reservations"] = try await h.strings(
            """
            select concat_ws('|', property_code, confirmation_id, valid_from, content_hash, valid_to, version, status,
                             room_nights, total_gross) from facts.reservations order by 1
            """)
        print["facts.rates"] = try await h.strings(
            """
            select concat_ws('|', property_code, rate_id, room_code, stay_date, adults, children, channel, valid_from,
                             valid_to, price, currency, closeout, min_stay, available) from facts.rates order by 1
            """)
        print["facts.availability"] = try await h.strings(
            """
            select concat_ws('|', property_code, room_code, stay_date, valid_from, valid_to, allotment, stop_sell,
                             min_stay) from facts.availability order by 1
            """)
        print["nights"] = try await h.strings(
            "select status || ' ' || (counts->>'exit_status') from ops.runs where command = 'nightly' order by 1")
        return print
    }

    @Test("a nightly killed with SIGKILL at random steps (10 trials), then rerun, ends as one clean nightly would")
    func killedAndRerun() async throws {
        var clean: [String: [String]] = [:]
        var cleanStatus: Int32 = -1
        try await PullHarness.with(Self.world) { h in
            h.server.advance(minutes: 1440)
            try await Self.seed(h)
            let outcome = try await CommandLineRunner.run(
                Self.arguments(h, try Self.config(h)), environment: h.environment)
            cleanStatus = outcome.status
            #expect([0, 3].contains(outcome.status), "clean nightly: \(outcome.stdout) \(outcome.stderr)")
            clean = try await Self.fingerprint(h)
            #expect((clean["rates"]?.count ?? 0) > 0 && (clean["reservations"]?.count ?? 0) > 0)
        }
        var generator = SystemRandomNumberGenerator()
        var violations = 0
        let trials = Torture.trials(short: 10, full: 20)
        for trial in 0..<trials {
            let step = Self.steps.randomElement(using: &generator)!
            let midStep = trial % 2 == 1
            try await PullHarness.with(Self.world) { h in
                h.server.advance(minutes: 1440)
                try await Self.seed(h)
                let config = try Self.config(h)
                let child = try ChildProcess(Self.arguments(h, config), environment: h.environment)
                try await Self.waitUntil {
                    if !child.isRunning { return true }
                    return try await h.int(
                        "select count(*)::int from ops.runs where command = $1", ["nightly: " + step]) > 0
                }
                if midStep, step.hasPrefix("pull") {
                    // Halfway through a pull: after its first batch has landed.
                    let before = try await h.int("select count(*)::int from ops.batches")
                    try await Self.waitUntil {
                        if !child.isRunning { return true }
                        return try await h.int("select count(*)::int from ops.batches") > before
                    }
                }
                child.kill()
                _ = try await child.wait()
                // A kill that came after the night had finished (retention is the last step
                // and takes milliseconds) killed nothing: that night is the clean one, and a
                // rerun would rightly be the next night. Only an unfinished night is rerun.
                let finished = try await h.int(
                    "select count(*)::int from ops.runs where command = 'nightly' and status <> 'running'")
                let rerun =
                    finished > 0
                    ? CommandLineRunner.Outcome(status: cleanStatus, stdout: "", stderr: "")
                    : try await CommandLineRunner.run(Self.arguments(h, config), environment: h.environment)
                #expect(
                    rerun.status == cleanStatus, "trial \(trial) killed at \(step): \(rerun.stdout) \(rerun.stderr)")
                let print = try await Self.fingerprint(h)
                var comparable = print
                comparable["nights"] = nil
                var expected = clean
                expected["nights"] = nil
                expectSameStaging(comparable, expected)
                // One night in the end, resumed or finished by the kill's survivor.
                #expect(print["nights"]?.count == 1, "trial \(trial) at \(step): \(print["nights"] ?? [])")
                violations +=
                    Set(comparable.keys).union(expected.keys).map {
                        Torture.difference(comparable[$0] ?? [], expected[$0] ?? [])
                    }.reduce(0, +) + (rerun.status == cleanStatus ? 0 : 1) + (print["nights"]?.count == 1 ? 0 : 1)
            }
        }
        Torture.record(
            "SIGKILL of nightly at random steps, rerun vs one clean nightly", trials: trials, violations: violations,
            note: "staging and facts vs a clean night; exit status; one night row")
    }

    @Test("two nightlies at once: one works, the other exits 0 saying another is in progress")
    func twoAtOnce() async throws {
        try await PullHarness.with(Self.world) { h in
            h.server.advance(minutes: 600)
            try await Self.seed(h)
            let config = try Self.config(h)
            let first = try ChildProcess(Self.arguments(h, config), environment: h.environment)
            try await Self.waitUntil {
                if !first.isRunning { return true }
                return try await h.int("select count(*)::int from ops.runs where command = 'nightly'") > 0
            }
            let second = try await CommandLineRunner.run(Self.arguments(h, config), environment: h.environment)
            let one = try await first.wait()
            #expect([0, 3].contains(one.status), "\(one.stdout) \(one.stderr)")
            #expect(second.status == 0 && second.stdout.contains("in progress"), "\(second.stdout) \(second.stderr)")
            let nights = try await h.int("select count(*)::int from ops.runs where command = 'nightly'")
            #expect(nights == 1)
            Torture.record(
                "two nightlies started at once", trials: 1,
                violations: ([0, 3].contains(one.status) ? 0 : 1)
                    + (second.status == 0 && second.stdout.contains("in progress") ? 0 : 1) + abs(nights - 1),
                note: "one works, the other exits 0 saying so; one night row")
        }
    }

    @Test(
        "a step past its deadline fails the night (exit 1) and frees the lock; the next nightly resumes it; status names the failed step, then reads the resumed night"
    )
    func deadlineThenNextNight() async throws {
        try await PullHarness.with(Self.world) { h in
            h.server.advance(minutes: 600)
            try await Self.seed(h)
            let config = try Self.config(h)
            var slow = FaultSettings()
            slow.latencyRate = 1
            slow.latencyMilliseconds = 4000
            h.server.setFaults(slow)
            let metrics = FileManager.default.temporaryDirectory.appendingPathComponent("nightly-\(UUID()).prom")
            defer { try? FileManager.default.removeItem(at: metrics) }
            let hung = try await CommandLineRunner.run(
                Self.arguments(h, config, ["--step-deadline-minutes", "0.02", "--metrics-file", metrics.path]),
                environment: h.environment)
            #expect(hung.status == 1, "\(hung.stdout) \(hung.stderr)")
            // Attention first: the failed step's deadline is the summary's first item.
            let lines = hung.stdout.split(separator: "\n").map(String.init)
            #expect(
                lines.count > 2 && lines[1] == "needs attention:" && lines[2].contains("deadline"), "\(hung.stdout)")
            let prom = try String(contentsOf: metrics, encoding: .utf8)
            #expect(prom.contains("ota_ingest_nightly_exit_status 1"))
            #expect(prom.contains("ota_ingest_nightly_step_success{step=\"pull reservations webhotelier\"} 0"))

            let status = try await CommandLineRunner.run(["status", "--format", "json", "--database-url", h.db.url])
            #expect(status.status == 0, "\(status.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
            let steps = json?["last_night"] as? [[String: Any]] ?? []
            let failed = steps.filter { $0["status"] as? String == "failed" }.compactMap { $0["step"] as? String }
            #expect(failed.contains("pull reservations webhotelier"), "\(status.stdout)")
            #expect(json?["runs"] is [Any] && json?["watermarks"] is [Any] && json?["dead_letters"] is [Any])

            h.server.setFaults(FaultSettings())
            let next = try await CommandLineRunner.run(Self.arguments(h, config), environment: h.environment)
            #expect([0, 3].contains(next.status), "\(next.stdout) \(next.stderr)")
            #expect(next.stdout.contains("(resumed)"), "\(next.stdout)")
            // The resumed night began migrate and the failed steps again, after the steps the
            // first attempt finished: status still lists them in the order they run.
            try await StatusTests.expectReadable(h, config: config, exit: next.status)
        }
    }

    @Test("retention deletes ledger rows past their age, keeps a running run's rows and everything recent")
    func retention() async throws {
        try await PullHarness.with(Self.world) { h in
            h.server.advance(minutes: 600)
            try await Self.seed(h)
            let connection = try await h.db.connect()
            try await connection.executeScript(
                """
                insert into ops.runs (run_id, command, started_at, finished_at, status) values
                    ('old-done', 'pull rates webhotelier', now() - interval '40 days', now() - interval '40 days', 'succeeded'),
                    ('old-live', 'load rates x', now() - interval '40 days', null, 'running');
                insert into ops.batches (run_id, source, stream, property_code, batch_range, rows_landed, landed_at) values
                    ('old-done', 'webhotelier', 'rates', 'HTL001', 'a', 1, now() - interval '40 days'),
                    ('old-live', 'webhotelier', 'rates', 'HTL001', 'b', 1, now() - interval '40 days');
                insert into ops.call_log values ('old', 'HTL009', 'availability', now() - interval '40 days');
                insert into ops.pipeline_counts (run_id, source, stream, property_code, metric, value, recorded_at)
                    values ('old-done', 'webhotelier', 'feeds', 'HTL001', 'requests', 1, now() - interval '40 days');
                insert into ops.webhook_receipts (source, property_code, idempotency_key, body_hash, received_at, run_id)
                    values ('webhotelier', 'HTL001', 'k1', 'h', now() - interval '40 days', 'old-done');
                insert into recon.drift_metrics (run_id, snapshot_id, source, stream, property_code, metric, kind, value,
                    compared_at) values ('old-done', 1, 'webhotelier', 'rates', 'HTL001', 'compared_keys', 'drift', 1,
                    now() - interval '40 days');
                """)
            await connection.close()
            let night = try await CommandLineRunner.run(
                Self.arguments(h, try Self.config(h), ["--retain-ledgers-days", "30"]), environment: h.environment)
            #expect([0, 3].contains(night.status), "\(night.stdout) \(night.stderr)")
            #expect(
                try await h.strings("select run_id from ops.runs where run_id like 'old-%' order by 1") == ["old-live"])
            #expect(try await h.strings("select batch_range from ops.batches where run_id like 'old-%'") == ["b"])
            #expect(try await h.int("select count(*)::int from ops.call_log where source = 'old'") == 0)
            #expect(try await h.int("select count(*)::int from ops.webhook_receipts where idempotency_key = 'k1'") == 0)
            #expect(try await h.int("select count(*)::int from ops.pipeline_counts where run_id = 'old-done'") == 0)
            #expect(try await h.int("select count(*)::int from recon.drift_metrics where run_id = 'old-done'") == 0)
            // The night's own rows are recent and stay.
            #expect(try await h.int("select count(*)::int from ops.batches") > 0)
            #expect(try await h.int("select count(*)::int from recon.drift_metrics") > 0)
        }
    }

    @Test("a failing source fails its own steps only: the other source is pulled, transformed and reconciled")
    func failingSourceDoesNotStopTheOthers() async throws {
        try await PullHarness.with(Self.world) { h in
            h.server.advance(minutes: 600)
            try await Self.seed(h)
            // A second cursor source whose token is refused: its pull and reconcile fail.
            let config = try Self.config(h)
            let text = try String(contentsOf: config, encoding: .utf8)
            try
                (text + """

                    [sources.broken]
                    kind = "cursor"
                    base_url = "\(h.baseURL)/v2"
                    token_env = "BROKEN_TOKEN"
                    max_attempts = 1
                    """).write(to: config, atomically: true, encoding: .utf8)
            var environment = h.environment
            environment["BROKEN_TOKEN"] = "not-the-token"
            let night = try await CommandLineRunner.run(Self.arguments(h, config), environment: environment)
            #expect(night.status == 1, "\(night.stdout) \(night.stderr)")
            let statuses = try await h.strings(
                "select substr(command, 10) || ' ' || status from ops.runs where night_run_id is not null order by 1")
            #expect(statuses.contains("pull inventory broken failed"), "\(statuses)")
            #expect(statuses.contains("pull inventory acme succeeded"), "\(statuses)")
            #expect(statuses.contains("pull rates webhotelier succeeded"), "\(statuses)")
            #expect(statuses.contains("transform succeeded"), "\(statuses)")
            #expect(statuses.contains("reconcile webhotelier succeeded"), "\(statuses)")
            #expect(try await h.int("select count(*)::int from facts.rates") > 0)
            let lines = night.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count > 2 && lines[2].contains("pull inventory broken failed"), "\(night.stdout)")
        }
    }
}
