import Foundation
import HTTPClient
import OTAIngest
import PostgresClient
import Synchronization
import TestSupport
import Testing

/// `ota-ingest serve` as an operator starts it: refusals in one line with exit 2, the
/// start line through a pipe while it runs, a log line per request, every line JSON
/// with `--log-format json`.
@Suite struct ServeCommandTests {
    static func configFile(_ text: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString).toml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A database URL nothing listens on: the refusals below come before any connection.
    static let nowhere = "host=127.0.0.1 port=1 dbname=none connect_timeout=2"

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    @Test("serve without Basic credentials refuses to start, on loopback too, in one line with exit 2")
    func refusesToStartWithoutCredentials() async throws {
        for text in [
            "[sources.wh]\nkind = \"webhotelier\"\nbase_url = \"http://127.0.0.1:9\"\ncredentials_env_prefix = \"WH_\"\n",
            "[serve]\nlisten = \"127.0.0.1\"\nport = 0\n",
            "[serve]\nlisten = \"0.0.0.0\"\nport = 0\n",
        ] {
            let config = try Self.configFile(text)
            defer { try? FileManager.default.removeItem(at: config) }
            let outcome = try await CommandLineRunner.run(
                ["serve", "--config", config.path, "--database-url", Self.nowhere], environment: ["WH_HTL001": "u:p"])
            #expect(outcome.status == 2, "\(outcome.stderr)")
            let lines = Self.lines(outcome.stderr)
            #expect(lines.count == 1, "\(outcome.stderr)")
            #expect(lines.first?.contains("no Basic credentials") == true, "\(outcome.stderr)")
            #expect(lines.first?.contains("fix:") == true && lines.first?.contains("allow_unauthenticated") == true)
        }
    }

    @Test("secrets written into the config are refused by name; a world-readable secret file is warned about")
    func secretsByReferenceOnly() async throws {
        let inline = try Self.configFile(
            "[serve]\nbasic_username = \"wh\"\nbasic_password = \"hunter2\"\n")
        defer { try? FileManager.default.removeItem(at: inline) }
        let refused = try await CommandLineRunner.run(
            ["serve", "--config", inline.path, "--database-url", Self.nowhere])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("serve.basic_password holds a secret"), "\(refused.stderr)")
        #expect(refused.stderr.contains("basic_password_env") && !refused.stderr.contains("hunter2"))
        let token = try Self.configFile(
            "[sources.feed]\nkind = \"cursor\"\nbase_url = \"http://127.0.0.1:9\"\ntoken = \"t0ken\"\n")
        defer { try? FileManager.default.removeItem(at: token) }
        let tokenRefused = try await CommandLineRunner.run(
            ["pull", "inventory", "--source", "feed", "--config", token.path, "--database-url", Self.nowhere])
        #expect(tokenRefused.status == 2)
        #expect(tokenRefused.stderr.contains("sources.feed.token holds a secret"), "\(tokenRefused.stderr)")
        #expect(tokenRefused.stderr.contains("token_env or token_file") && !tokenRefused.stderr.contains("t0ken"))

        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("push-\(UUID().uuidString)")
        try "s3cret\n".write(to: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secret) }
        let open = try Self.configFile(
            "[serve]\nbasic_username = \"wh\"\nbasic_password_file = \"\(secret.path)\"\n")
        defer { try? FileManager.default.removeItem(at: open) }
        chmod(secret.path, 0o644)
        let warned = try await CommandLineRunner.run(["serve", "--config", open.path, "--database-url", Self.nowhere])
        #expect(warned.stderr.contains("\(secret.path) is readable by every user (mode 644)"), "\(warned.stderr)")
        #expect(warned.stderr.contains("fix: chmod o-rwx"))
        chmod(secret.path, 0o600)
        let quiet = try await CommandLineRunner.run(["serve", "--config", open.path, "--database-url", Self.nowhere])
        #expect(!quiet.stderr.contains("readable by every user"), "\(quiet.stderr)")
    }

    @Test(
        "allow_unauthenticated starts with a warning; the start line comes through a pipe while serve runs; one JSON line per request; a port in use is one line"
    )
    func startLineRequestLogAndPortInUse() async throws {
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            _ = try await Migrator().migrate(connection)
            await connection.close()
            let config = try Self.configFile("[serve]\nport = 0\nallow_unauthenticated = true\n")
            defer { try? FileManager.default.removeItem(at: config) }
            let pipe = Pipe()
            let serve = try ChildProcess(
                ["serve", "--config", config.path, "--database-url", db.url, "--log-format", "json"],
                standardOutput: pipe)
            // Should the line never come while serve runs, stop it: the line then comes at exit, too late.
            let stopped = Atomic<Bool>(false)
            let watchdog = Task {
                try await Task.sleep(for: .seconds(60))
                stopped.store(true, ordering: .relaxed)
                serve.terminate()
            }
            let line = await ChildProcess.firstLine(pipe.fileHandleForReading)
            watchdog.cancel()
            let stoppedFirst = stopped.load(ordering: .relaxed)
            #expect(!stoppedFirst, "the start line came only when serve was stopped")
            let port = Int(line.split(separator: ":").last ?? "") ?? 0
            #expect(line.hasPrefix("ota-ingest serve: listening on 127.0.0.1:") && port > 0, "\(line)")

            let session = HTTPSession()
            let base = "http://127.0.0.1:\(port)"
            #expect(try await session.send(HTTPClientRequest(url: base + "/healthz")).status == 200)
            let ping = try await session.send(
                HTTPClientRequest(url: base + "/webhooks/webhotelier", headers: ["x-wh-property": "HTL001"]))
            #expect(ping.status == 404)
            let rates = try await session.send(
                HTTPClientRequest(
                    method: "POST", url: base + "/webhooks/ota/nobody?token=secret",
                    headers: ["Content-Type": "application/json"], body: Array("{}".utf8)))
            #expect(rates.status == 404)

            // The same port again: one line naming it and the fix, exit 2.
            let (held, heldPort) = try LoopbackPort.bound()
            defer { close(held) }
            let busy = try await CommandLineRunner.run(
                ["serve", "--config", config.path, "--database-url", db.url, "--port", String(heldPort)])
            #expect(busy.status == 2, "\(busy.stderr)")
            let busyLines = Self.lines(busy.stderr).filter { !$0.contains("allow_unauthenticated") }
            #expect(busyLines.count == 1, "\(busy.stderr)")
            #expect(
                busyLines.first?.contains("port \(heldPort)") == true && busyLines.first?.contains("in use") == true)
            #expect(busyLines.first?.contains("fix:") == true && !busy.stderr.contains("errno"))

            serve.terminate()
            let outcome = try await serve.wait()
            #expect(outcome.status == 0, "\(outcome.stderr)")
            var requests: [[String: Any]] = []
            for line in Self.lines(outcome.stderr) {
                guard let data = line.data(using: .utf8),
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                else {
                    Issue.record("not a JSON log line: \(line)")
                    continue
                }
                if object["method"] != nil { requests.append(object) }
            }
            #expect(outcome.stderr.contains("allow_unauthenticated = true") && outcome.stderr.contains("\"warning\""))
            #expect(!outcome.stderr.contains("CancellationError"), "\(outcome.stderr)")
            #expect(!outcome.stderr.contains("secret"), "a query string is never logged")
            let seen = requests.map { "\($0["method"] ?? "") \($0["path"] ?? "") \($0["status"] ?? "")" }
            #expect(
                seen == ["GET /healthz 200", "GET /webhooks/webhotelier 404", "POST /webhooks/ota/nobody 404"],
                "\(outcome.stderr)")
            #expect(requests.allSatisfy { $0["duration_ms"] != nil && $0["bytes"] != nil && $0["run_id"] != nil })
            #expect(requests.dropFirst().first?["property"] as? String == "HTL001")
        }
    }
}
