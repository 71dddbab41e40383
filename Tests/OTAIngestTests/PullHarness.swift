import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport

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
            pageSize: 1000, requestsPerSecond: 5000, burst: 5000, maxAttempts: 12)
        var feed = SourceConfig(
            name: "acme", kind: .cursor, baseURL: baseURL + "/v2", secrets: .environment(variable: "FEED_TOKEN"),
            pageSize: 1000, requestsPerSecond: 5000, burst: 5000, maxAttempts: 12)
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
    func pull(_ job: PullRunner.Job, _ adjust: (inout SourceConfig) -> Void = { _ in }) async throws -> PullRunner.Outcome {
        try await runner(adjust).run(job)
    }

    func strings(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> [String] {
        let connection = try await db.connect()
        defer { Task { await connection.close() } }
        return try await connection.query(sql, parameters).map { try $0.decode(String.self, at: 0) }
    }

    func int(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> Int {
        let connection = try await db.connect()
        let value = try await connection.query(sql, parameters)[0].decode(Int.self, at: 0)
        await connection.close()
        return value
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
