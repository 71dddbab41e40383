import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// Errors of a pull that lead somewhere: what came back and where, and what to check.
@Suite struct FetchErrorTests {
    static func config(baseURL: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fetch-\(UUID().uuidString).toml")
        try """
        [sources.webhotelier]
        kind = "webhotelier"
        base_url = "\(baseURL)"
        credentials_env_prefix = "WH_"
        pending_interval_minutes = 0
        max_attempts = 4
        retry_base_ms = 1
        retry_max_ms = 5
        """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    static func pull(_ config: URL, _ db: TestDatabase) async throws -> CommandLineRunner.Outcome {
        try await CommandLineRunner.run(
            ["pull", "reservations", "--source", "webhotelier", "--config", config.path, "--database-url", db.url],
            environment: ["WH_HTL001": "user:pass"])
    }

    @Test("a 200 with an HTML login page is not retried and is named: URL, content type, first bytes, what to check")
    func htmlAnswerIsNotRetried() async throws {
        let page =
            "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>\u{1b}[31m"
            + String(
                repeating: "x", count: 300) + "</body></html>"
        let server = try FixedAnswerServer(contentType: "text/html; charset=utf-8", body: page)
        defer { server.stop() }
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            _ = try await Migrator().migrate(connection)
            await connection.close()
            let config = try Self.config(baseURL: server.baseURL + "/api")
            defer { try? FileManager.default.removeItem(at: config) }
            let outcome = try await Self.pull(config, db)
            #expect(outcome.status == 1, "\(outcome.stdout) \(outcome.stderr)")
            #expect(server.requests == 1, "retried \(server.requests - 1) times")
            let text = outcome.stdout + outcome.stderr
            #expect(text.contains("\(server.baseURL)/api/reservation"), "\(text)")
            #expect(text.contains("text/html; charset=utf-8"))
            #expect(text.contains(#""<!DOCTYPE html>\n<html><head><title>Sign in</title>"#), "\(text)")
            #expect(text.contains("check base_url and the credentials"))
            // Safely quoted: the page's escape sequence is shown, never sent to the terminal.
            #expect(!text.contains("\u{1b}") && text.contains("\\x1b"))
            #expect(!text.contains(String(repeating: "x", count: 200)), "only the first bytes")
            #expect(!text.contains("rerun later"))
        }
    }

    @Test("a refused connection names the host and port")
    func refusedConnectionNamesHostAndPort() async throws {
        let (held, port) = try LoopbackPort.bound()
        defer { close(held) }
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            _ = try await Migrator().migrate(connection)
            await connection.close()
            let config = try Self.config(baseURL: "http://127.0.0.1:\(port)")
            defer { try? FileManager.default.removeItem(at: config) }
            let outcome = try await Self.pull(config, db)
            #expect(outcome.status == 1)
            let text = outcome.stdout + outcome.stderr
            #expect(text.contains("cannot connect to 127.0.0.1:\(port)"), "\(text)")
            #expect(text.contains("after 4 attempts"))
            #expect(text.contains("the server at 127.0.0.1:\(port) is up"), "\(text)")
        }
    }
}
