import Foundation
import TOMLKit

/// `[serve]`: where the webhook receiver listens, what it accepts, and where its
/// secrets are. Like the sources' secrets, these are references, never values.
public struct ServeConfig: Sendable {
    public var listen = "127.0.0.1"
    public var port = 8080
    /// Bodies over this many bytes are answered 413 without being read further.
    public var bodyLimitBytes = 1 << 20
    /// The same for OpenTravel pushes, whose messages may be several megabytes.
    public var openTravelBodyLimitBytes = 10 << 20
    /// The least time between two PING-driven pending-list reads of one property.
    public var pingGap: Duration = .seconds(10)
    /// The WebHotelier source PUSH and PING belong to (nil: the only one configured).
    public var source: String?
    /// Basic credentials WebHotelier was registered with, for PUSH and PING alike.
    public var basicUsername: String?
    public var basicPassword: SecretReference?
    /// Without Basic credentials the receiver refuses to start unless this is set: a
    /// trusted network's escape hatch, warned about at every start.
    public var allowUnauthenticated = false
    /// Signing secrets per `/webhooks/ota/{source}` path segment.
    public var signing: [String: SigningConfig] = [:]
    /// Connections that commit received requests, each a group commit at a time.
    public var commitConnections = 4
    /// The most requests one commit holds.
    public var maxBatch = 512
    /// Continuous promotion: what lands is promoted into facts while serve runs.
    public var promote = true
    /// How often continuous promotion looks for what landed (the bound on a push's wait for facts).
    public var promoteInterval: Duration = .milliseconds(500)

    public init() {}
}

/// How one OTA signs its rate updates, and where the active secrets are (several
/// during a rotation: a signature made with any of them is accepted).
public struct SigningConfig: Sendable {
    public enum Scheme: String, Sendable, CaseIterable {
        /// `X-OTA-Signature`: hex HMAC-SHA256 of the raw body.
        case hmac
        /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`.
        case standard
    }

    public var scheme: Scheme
    /// Environment variables or files, each holding one secret.
    public var secrets: [SecretReference]
    /// Standard Webhooks: how far a timestamp may be from now, either way.
    public var tolerance: Duration = .seconds(300)

    public init(scheme: Scheme, secrets: [SecretReference]) {
        self.scheme = scheme
        self.secrets = secrets
    }
}

extension ConfigLoader {
    static func serve(_ table: TOMLTable, file: String) throws -> ServeConfig {
        var reader = TableReader(table: table, path: "serve", file: file)
        var serve = ServeConfig()
        serve.listen = try reader.string("listen") ?? serve.listen
        serve.port = try reader.int("port", in: 0...65535) ?? serve.port
        serve.bodyLimitBytes = try reader.int("body_limit_bytes", in: 1024...(64 << 20)) ?? serve.bodyLimitBytes
        serve.openTravelBodyLimitBytes =
            try reader.int("opentravel_body_limit_bytes", in: 1024...(64 << 20)) ?? serve.openTravelBodyLimitBytes
        if let seconds = try reader.int("ping_gap_seconds", in: 0...3600) { serve.pingGap = .seconds(seconds) }
        serve.source = try reader.string("source")
        serve.commitConnections = try reader.int("commit_connections", in: 1...64) ?? serve.commitConnections
        serve.maxBatch = try reader.int("max_batch", in: 1...10000) ?? serve.maxBatch
        serve.promote = try reader.bool("promote") ?? serve.promote
        if let milliseconds = try reader.int("promote_interval_ms", in: 10...60000) {
            serve.promoteInterval = .milliseconds(milliseconds)
        }
        serve.basicUsername = try reader.string("basic_username")
        serve.allowUnauthenticated = try reader.bool("allow_unauthenticated") ?? false
        try reader.rejectInlineSecret("basic_password", use: "basic_password_env or basic_password_file")
        let passwordEnv = try reader.string("basic_password_env")
        let passwordFile = try reader.string("basic_password_file")
        switch (passwordEnv, passwordFile) {
        case (let variable?, nil): serve.basicPassword = .environment(variable: variable)
        case (nil, let path?): serve.basicPassword = .file(path: path)
        case (nil, nil): break
        default:
            throw ConfigError(
                "\(file): serve has both basic_password_env and basic_password_file; fix: keep one of them")
        }
        if (serve.basicUsername == nil) != (serve.basicPassword == nil) {
            throw ConfigError(
                "\(file): serve needs basic_username and one of basic_password_env or basic_password_file together; fix: set both or neither"
            )
        }
        if let signing = try reader.table("signing") {
            for name in signing.keys.sorted() {
                guard let inner = signing[name]?.table else {
                    throw ConfigError(
                        "\(file): serve.signing.\(name) must be a table; fix: write [serve.signing.\(name)]")
                }
                serve.signing[name] = try signingConfig(name: name, table: inner, file: file)
            }
        }
        try reader.rejectUnknownKeys()
        return serve
    }

    private static func signingConfig(name: String, table: TOMLTable, file: String) throws -> SigningConfig {
        var reader = TableReader(table: table, path: "serve.signing.\(name)", file: file)
        guard name.range(of: "^[a-z0-9_-]{1,40}$", options: .regularExpression) != nil else {
            throw ConfigError(
                "\(file): serve.signing.\(name): the name is the URL's {source} segment; fix: use 1-40 lowercase letters, digits, _ or -"
            )
        }
        let schemeName = try reader.requiredString("scheme")
        guard let scheme = SigningConfig.Scheme(rawValue: schemeName) else {
            throw ConfigError(
                "\(file): serve.signing.\(name).scheme \"\(schemeName)\" is unknown; fix: use hmac or standard")
        }
        let secrets =
            (try reader.stringArray("secrets_env") ?? []).map { SecretReference.environment(variable: $0) }
            + (try reader.stringArray("secrets_files") ?? []).map { SecretReference.file(path: $0) }
        guard !secrets.isEmpty else {
            throw ConfigError(
                "\(file): serve.signing.\(name) names no secret; fix: add secrets_env = [\"VAR\"] or secrets_files = [\"/path\"] (two during a rotation)"
            )
        }
        var config = SigningConfig(scheme: scheme, secrets: secrets)
        if let seconds = try reader.int("tolerance_seconds", in: 1...86400) { config.tolerance = .seconds(seconds) }
        try reader.rejectUnknownKeys()
        return config
    }
}

extension SecretResolver {
    /// One secret by reference (a file's content is trimmed of surrounding whitespace).
    public func secret(_ reference: SecretReference, what: String) throws -> String {
        switch reference {
        case .environment(let variable):
            guard let value = environment[variable], !value.isEmpty else {
                throw ConfigError("\(what): environment variable \(variable) is not set; fix: export it")
            }
            return value
        case .file(let configured):
            let path = try expanded(configured, what: what)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigError("\(what): \(path) cannot be read; fix: check the path and its permissions")
            }
            SecretFileMode.warnIfOpen(path, what: what)
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw ConfigError("\(what): \(path) is empty; fix: write the secret into it") }
            return text
        case .directory, .environmentPrefix:
            throw ConfigError("\(what): a single secret is named by an environment variable or a file")
        }
    }
}
