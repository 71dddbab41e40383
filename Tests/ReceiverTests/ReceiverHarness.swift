import Crypto
import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import PostgresClient
import Receiver
import TestSupport
import Testing

/// A real sandbox, a fresh migrated database and a real receiver on loopback,
/// configured as a deployment would be: secrets in the environment, never in the config.
struct ReceiverHarness: Sendable {
    let sandbox: SandboxServer
    let db: TestDatabase
    let receiver: ReceiverServer
    let port: Int

    static let basic = (username: "wh-push", password: "push-secret-1")
    static let hmacSecret = "hmac-secret-1"
    static let openTravelLogin = (username: "cm-push", password: "cm-secret-1")
    static let standardSecrets = [
        "whsec_" + Data("standard-key-old".utf8).base64EncodedString(),
        "whsec_" + Data("standard-key-new".utf8).base64EncodedString(),
    ]

    static func with(
        _ configure: (inout SandboxConfiguration) -> Void = { _ in },
        serve adjust: (inout ServeConfig) -> Void = { _ in },
        sources adjustSources: (inout [SourceConfig], inout [String: String]) -> Void = { _, _ in },
        _ body: (ReceiverHarness) async throws -> Void
    ) async throws {
        var configuration = SandboxConfiguration()
        configuration.minimumPendingIntervalMinutes = 0
        configure(&configuration)
        let sandbox = try SandboxServer(configuration: configuration)
        _ = try await sandbox.start()
        do {
            try await TestDatabase.with { db in
                let connection = try await db.connect()
                _ = try await Migrator().migrate(connection)
                await connection.close()
                var (config, environment) = Self.config(sandbox: sandbox, adjust)
                adjustSources(&config.sources, &environment)
                let receiver = try ReceiverServer(
                    config: config, databaseURL: db.url, secrets: SecretResolver(environment: environment),
                    logLines: Self.warningsOnly)
                let port = try await receiver.start()
                let harness = ReceiverHarness(sandbox: sandbox, db: db, receiver: receiver, port: port)
                do {
                    try await body(harness)
                } catch {
                    try? await receiver.shutdown()
                    throw error
                }
                try await receiver.shutdown()
            }
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    /// The receiver's configuration and the environment holding its secrets.
    static func config(sandbox: SandboxServer, _ adjust: (inout ServeConfig) -> Void) -> (
        IngestConfig, [String: String]
    ) {
        var env = [
            "PUSH_PASSWORD": basic.password, "ACME_SECRET": hmacSecret, "SVIX_OLD": standardSecrets[0],
            "SVIX_NEW": standardSecrets[1],
        ]
        for account in sandbox.accounts() { env["WH_" + account.code] = "\(account.username):\(account.password)" }
        var wh = SourceConfig(
            name: "webhotelier", kind: .webhotelier, baseURL: sandbox.baseURL!, secrets: .environmentPrefix("WH_"),
            concurrency: 2, pendingListInterval: .zero, feedInterval: .zero, stayWindowDays: 45, chunkDays: 14,
            pageSize: 1000, requestsPerSecond: 5000, burst: 5000, maxAttempts: 10)
        wh.retryBaseDelay = .milliseconds(20)
        wh.retryMaxDelay = .milliseconds(200)
        var serve = ServeConfig()
        serve.port = 0
        serve.pingGap = .zero
        serve.basicUsername = basic.username
        serve.basicPassword = .environment(variable: "PUSH_PASSWORD")
        serve.signing["acme"] = SigningConfig(scheme: .hmac, secrets: [.environment(variable: "ACME_SECRET")])
        serve.signing["svix"] = SigningConfig(
            scheme: .standard, secrets: [.environment(variable: "SVIX_OLD"), .environment(variable: "SVIX_NEW")])
        adjust(&serve)
        // A channel manager pushing OpenTravel for the sandbox's hotels.
        env["CM_PASSWORD"] = openTravelLogin.password
        var cm = SourceConfig(
            name: "cm", kind: .opentravel, baseURL: "http://unused.invalid", secrets: .environment(variable: ""),
            properties: sandbox.accounts().map(\.code))
        cm.openTravel.pull = false
        cm.openTravel.pushUsername = openTravelLogin.username
        cm.openTravel.pushPassword = .environment(variable: "CM_PASSWORD")
        return (IngestConfig(sources: [wh, cm], serve: serve), env)
    }

    /// The receiver's warnings and errors, without its request log (thousands of lines under load).
    static let warningsOnly: @Sendable (String) -> Void = { line in
        if !line.hasPrefix("[info]") { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func send(
        _ method: String = "POST", _ path: String, headers: HTTPHeaders = [:], body: [UInt8]? = nil,
        session: HTTPSession = HTTPSession()
    ) async throws -> HTTPClientResponse {
        try await session.send(HTTPClientRequest(method: method, url: baseURL + path, headers: headers, body: body))
    }

    static var basicHeader: String {
        "Basic " + Data("\(basic.username):\(basic.password)".utf8).base64EncodedString()
    }

    func strings(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> [String] {
        try await db.strings(sql, parameters)
    }

    func int(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> Int {
        try await db.int(sql, parameters)
    }

    /// The count of one outcome in /metrics (0 when absent).
    func metric(_ endpoint: String, _ outcome: String) -> Int {
        let text = receiver.metricsText
        for line in text.split(separator: "\n") where line.hasPrefix("ota_receiver_requests_total{") {
            if line.contains("endpoint=\"\(endpoint)\"") && line.contains("outcome=\"\(outcome)\"") {
                return Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
            }
        }
        return 0
    }
}

/// A small valid booking body, as a PUSH's `data`.
func bookingBody(id: Int, property: String = "HTL001", status: Int = 1, remarks: String = "") -> String {
    #"{"id":\#(id),"property":"\#(property)","status":\#(status),"roomStay":{"from":"2026-05-01","to":"2026-05-03"},"bookInfo":{"book_date":"2026-04-01T10:00:00Z"},"clientInfo":{"remarks":"\#(remarks)"}}"#
}

func pushJSON(id: Int, type: String = "new", property: String = "HTL001", status: Int = 1) -> [UInt8] {
    Array(#"{"id":\#(id),"type":"\#(type)","data":\#(bookingBody(id: id, property: property, status: status))}"#.utf8)
}

/// Signs like an OTA would, with swift-crypto directly (not the receiver's code).
enum TestSigning {
    static func hmacHex(_ body: [UInt8], secret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    static func standard(_ body: [UInt8], id: String, timestamp: Int, secret: String) -> String {
        let key = Data(base64Encoded: String(secret.dropFirst(6)))!
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(id).\(timestamp).".utf8) + body, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}
