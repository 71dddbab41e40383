import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// A real sandbox on a random port and a fresh migrated database, wired
/// together the way a user's config would wire them.
struct PullHarness: Sendable {
    let server: SandboxServer
    let db: TestDatabase

    static func with(
        _ configure: (inout SandboxConfiguration) -> Void = { _ in },
        _ body: (PullHarness) async throws -> Void
    ) async throws {
        var configuration = SandboxConfiguration()
        configuration.minimumPendingIntervalMinutes = 0
        configure(&configuration)
        let server = try SandboxServer(configuration: configuration)
        _ = try await server.start()
        do {
            try await TestDatabase.with { db in
                let connection = try await db.connect()
                _ = try await Migrator().migrate(connection)
                await connection.close()
                try await body(PullHarness(server: server, db: db))
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Credentials as a deployment would pass them: `username:password` per property.
    var baseURL: String { server.baseURL! }

    var environment: [String: String] {
        var env = ["FEED_TOKEN": "sandbox-token"]
        for account in server.accounts() { env["WH_" + account.code] = "\(account.username):\(account.password)" }
        return env
    }

    func sources(_ adjust: (inout SourceConfig) -> Void = { _ in }) -> IngestConfig {
        var wh = SourceConfig(
            name: "webhotelier", kind: .webhotelier, baseURL: baseURL, secrets: .environmentPrefix("WH_"),
            concurrency: 3, pendingListInterval: .zero, feedInterval: .zero, stayWindowDays: 45, chunkDays: 14,
            pageSize: 1000, requestsPerSecond: 5000, burst: 5000, maxAttempts: 20)
        var feed = SourceConfig(
            name: "acme", kind: .cursor, baseURL: baseURL + "/v2", secrets: .environment(variable: "FEED_TOKEN"),
            pageSize: 1000, requestsPerSecond: 5000, burst: 5000, maxAttempts: 20)
        wh.retryBaseDelay = .milliseconds(20)
        wh.retryMaxDelay = .milliseconds(500)
        feed.retryBaseDelay = .milliseconds(20)
        feed.retryMaxDelay = .milliseconds(500)
        adjust(&wh)
        adjust(&feed)
        return IngestConfig(sources: [wh, feed])
    }

    func runner(_ adjust: (inout SourceConfig) -> Void = { _ in }, newRun: Bool = true) -> PullRunner {
        PullRunner(
            databaseURL: db.url, config: sources(adjust), sourceName: nil, clock: WallClock(pinned: server.now),
            logFormat: .text, allowDeadLetters: false, forceNewRun: newRun,
            secrets: SecretResolver(environment: environment))
    }

    @discardableResult
    func pull(_ job: PullRunner.Job, _ adjust: (inout SourceConfig) -> Void = { _ in }) async throws
        -> PullRunner.Outcome
    {
        try await runner(adjust).run(job)
    }

    func strings(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> [String] {
        try await db.strings(sql, parameters)
    }

    func int(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> Int {
        try await db.int(sql, parameters)
    }

    /// jsonb's canonical text of a JSON document, to compare bodies whatever their formatting.
    func canonical(_ json: String) async throws -> String {
        try await strings("select $1::jsonb::text", [json])[0]
    }
}

/// Two-decimal text of an amount in cents, as numeric(12,2) prints it.
func money(_ cents: Int) -> String {
    String(format: "%d.%02d", cents / 100, cents % 100)
}

extension PullHarness {
    /// A TOML config file for the CLI, pointing at this sandbox; secrets stay in the environment.
    func writeConfig(stayWindowDays: Int = 45, chunkDays: Int = 14, pageSize: Int = 500) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ota-\(UUID().uuidString).toml")
        let text = """
            [sources.webhotelier]
            kind = "webhotelier"
            base_url = "\(baseURL)"
            credentials_env_prefix = "WH_"
            pending_interval_minutes = 0
            feed_interval_minutes = 0
            stay_window_days = \(stayWindowDays)
            chunk_days = \(chunkDays)
            requests_per_second = 5000
            burst = 5000
            max_attempts = 12

            [sources.acme]
            kind = "cursor"
            base_url = "\(baseURL)/v2"
            token_env = "FEED_TOKEN"
            page_size = \(pageSize)
            requests_per_second = 5000
            burst = 5000
            """
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Arguments and environment for running `ota-ingest pull KIND` against this harness.
    func cliArguments(_ kind: String, config: URL) -> [String] {
        ["pull", kind, "--config", config.path, "--database-url", db.url, "--now", Timestamps.format(server.now)]
    }

    /// Everything staging holds, as sorted multisets of (natural key, content) per table.
    func stagingFingerprint() async throws -> [String: [String]] {
        [
            "reservations": try await strings(
                "select confirmation_id || ' ' || content_hash from staging.reservation_events order by 1"),
            "availability": try await strings(
                """
                select concat_ws('|', property_code, room_code, stay_date, allotment, stop_sell, min_stay, max_stay,
                                 closed_to_arrival, closed_to_departure) from staging.availability_observations order by 1
                """),
            "rates": try await strings(
                """
                select concat_ws('|', stream, property_code, rate_id, room_code, stay_date, adults, children, price,
                                 currency, closeout, min_stay, available, record_key, record_hash)
                from staging.rate_observations order by 1
                """),
            "dead_letters": try await strings("select stream || ' ' || raw_hash from ops.dead_letters order by 1"),
        ]
    }
}

/// Records an issue per table where two fingerprints differ, naming a few differing rows.
func expectSameStaging(_ actual: [String: [String]], _ expected: [String: [String]]) {
    for table in Set(actual.keys).union(expected.keys).sorted() {
        let a = actual[table] ?? []
        let e = expected[table] ?? []
        if a == e { continue }
        var counts: [String: Int] = [:]
        for row in a { counts[row, default: 0] += 1 }
        for row in e { counts[row, default: 0] -= 1 }
        let extra = counts.filter { $0.value > 0 }.keys.sorted()
        let missing = counts.filter { $0.value < 0 }.keys.sorted()
        Issue.record(
            "\(table): \(a.count) rows vs \(e.count) expected; extra \(extra.count) \(extra.prefix(2)); missing \(missing.count) \(missing.prefix(2))"
        )
    }
}

extension PullHarness {
    /// A sandbox and a migrated PostgreSQL cluster of the test's own, for tests that
    /// shut the server down under a pull (the shared server must never go away).
    static func withScratchCluster(
        _ configure: (inout SandboxConfiguration) -> Void,
        _ body: (PullHarness, ScratchCluster) async throws -> Void
    ) async throws {
        let cluster = try await ScratchCluster.start()
        var configuration = SandboxConfiguration()
        configuration.minimumPendingIntervalMinutes = 0
        configure(&configuration)
        let server = try SandboxServer(configuration: configuration)
        _ = try await server.start()
        do {
            let migrate = try await PostgresConnection.connect(cluster.url)
            _ = try await Migrator().migrate(migrate)
            await migrate.close()
            try await body(PullHarness(server: server, db: TestDatabase(name: "postgres", url: cluster.url)), cluster)
        } catch {
            await server.stop()
            await cluster.destroy()
            throw error
        }
        await server.stop()
        await cluster.destroy()
    }
}
