import Foundation
import TOMLKit

/// Reads and validates the TOML configuration file.
///
/// Unknown keys are errors, not warnings: a typo such as `concurency = 8` would
/// otherwise silently keep the default.
public enum ConfigLoader {
    /// Loads the file at `path`; every problem names the file and the key.
    public static func load(path: String) throws -> IngestConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(
                "\(path): file not found; fix: pass an existing file with --config or OTA_INGEST_CONFIG")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(path): cannot be read; fix: check the file's permissions")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Parses configuration text; `file` names it in messages.
    public static func parse(_ text: String, file: String) throws -> IngestConfig {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(
                "\(file): line \(error.source.begin.line): \(error.description); fix: correct the TOML syntax")
        }
        var reader = TableReader(table: root, path: "", file: file)
        for key in ["password", "token", "secret"] {
            try reader.rejectInlineSecret(
                key,
                use:
                    "a source's credentials_file, credentials_dir, credentials_env_prefix, token_env or token_file, or serve's basic_password_env"
            )
        }
        let sourcesTable = try reader.table("sources")
        let serveTable = try reader.table("serve")
        let retentionTable = try reader.table("retention")
        try reader.rejectUnknownKeys()

        var sources: [SourceConfig] = []
        if let sourcesTable {
            for name in sourcesTable.keys.sorted() {
                guard let table = sourcesTable[name]?.table else {
                    throw ConfigError("\(file): sources.\(name) must be a table; fix: write it as [sources.\(name)]")
                }
                sources.append(try source(name: name, table: table, file: file))
            }
        }
        var config = IngestConfig(sources: sources)
        if let serveTable { config.serve = try serve(serveTable, file: file) }
        if let retentionTable { config.retention = try retention(retentionTable, file: file) }
        return config
    }

    /// `[retention]`: guest_data_days.
    private static func retention(_ table: TOMLTable, file: String) throws -> RetentionConfig {
        var reader = TableReader(table: table, path: "retention", file: file)
        var settings = RetentionConfig()
        settings.guestDataDays = try reader.int("guest_data_days", in: 1...36500) ?? settings.guestDataDays
        try reader.rejectUnknownKeys()
        return settings
    }

    private static func source(name: String, table: TOMLTable, file: String) throws -> SourceConfig {
        var reader = TableReader(table: table, path: "sources.\(name)", file: file)
        guard name.range(of: "^[a-z0-9_-]{1,40}$", options: .regularExpression) != nil else {
            throw ConfigError(
                "\(file): source name \"\(name)\" is not allowed; fix: use 1-40 lowercase letters, digits, _ or -")
        }
        let kindName = try reader.requiredString("kind")
        guard let kind = SourceConfig.Kind(rawValue: kindName) else {
            let kinds = SourceConfig.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigError("\(file): sources.\(name).kind \"\(kindName)\" is unknown; fix: use one of \(kinds)")
        }
        let openTravelPull = kind == .opentravel ? try reader.bool("pull") ?? true : true
        // A push-only OpenTravel source has no API of its own to call.
        let baseURL =
            openTravelPull
            ? try reader.requiredString("base_url") : try reader.string("base_url") ?? "http://unused.invalid"
        guard let url = URL(string: baseURL), let scheme = url.scheme, ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw ConfigError(
                "\(file): sources.\(name).base_url \"\(baseURL)\" is not an http(s) URL; fix: e.g. https://rest.reserve-online.net"
            )
        }
        if url.user != nil || url.password != nil {
            throw ConfigError(
                "\(file): sources.\(name).base_url carries credentials; fix: remove them and use credentials_file, credentials_dir or token_env"
            )
        }
        if kind == .cursor {
            try reader.rejectInlineSecret("token", use: "token_env or token_file")
        } else {
            for key in ["password", "username", "credentials"] {
                try reader.rejectInlineSecret(
                    key,
                    use:
                        "credentials_file, credentials_dir or credentials_env_prefix (\"CODE username:password\" entries)"
                )
            }
        }
        let secrets =
            openTravelPull ? try secretReference(&reader, kind: kind) : SecretReference.environment(variable: "")
        var source = SourceConfig(
            name: name, kind: kind, baseURL: baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL,
            secrets: secrets)
        source.properties = try reader.stringArray("properties") ?? []
        source.concurrency = try reader.int("concurrency", in: 1...256) ?? source.concurrency
        if let minutes = try reader.int("pending_interval_minutes", in: 0...1440) {
            source.pendingListInterval = .seconds(minutes * 60)
        }
        if let minutes = try reader.int("feed_interval_minutes", in: 0...10080) {
            source.feedInterval = .seconds(minutes * 60)
        }
        source.stayWindowDays = try reader.int("stay_window_days", in: 1...1095) ?? source.stayWindowDays
        source.chunkDays = try reader.int("chunk_days", in: 1...366) ?? source.chunkDays
        source.pageSize = try reader.int("page_size", in: 1...10000) ?? source.pageSize
        source.requestsPerSecond =
            try reader.double("requests_per_second", in: 0.01...10000) ?? source.requestsPerSecond
        source.burst = try reader.int("burst", in: 1...10000) ?? source.burst
        source.maxAttempts = try reader.int("max_attempts", in: 1...20) ?? source.maxAttempts
        if let ms = try reader.int("retry_base_ms", in: 1...60000) { source.retryBaseDelay = .milliseconds(ms) }
        if let ms = try reader.int("retry_max_ms", in: 1...600_000) { source.retryMaxDelay = .milliseconds(ms) }
        if let seconds = try reader.int("request_timeout_seconds", in: 1...3600) {
            source.requestTimeout = .seconds(seconds)
        }
        if kind == .opentravel {
            source.openTravel = try openTravelSettings(&reader, pull: openTravelPull)
        }
        if let table = try reader.table("reconcile") {
            source.reconcile = try reconcileSettings(table, path: "sources.\(name).reconcile", file: file)
        }
        try reader.rejectUnknownKeys()
        return source
    }

    /// `[sources.NAME.reconcile]`: keep_snapshots, window_days, snapshot_reuse_minutes,
    /// max_mismatched_share, and a `thresholds` table of per-stream shares.
    private static func reconcileSettings(_ table: TOMLTable, path: String, file: String) throws
        -> ReconcileSettings
    {
        var reader = TableReader(table: table, path: path, file: file)
        var settings = ReconcileSettings()
        settings.keepSnapshots = try reader.int("keep_snapshots", in: 1...1000) ?? settings.keepSnapshots
        settings.reservationWindowDays = try reader.int("window_days", in: 1...3650) ?? settings.reservationWindowDays
        if let minutes = try reader.int("snapshot_reuse_minutes", in: 0...10080) {
            settings.snapshotReuse = .seconds(minutes * 60)
        }
        settings.defaultMaxMismatchedShare = try reader.double("max_mismatched_share", in: 0...1)
        if let thresholds = try reader.table("thresholds") {
            var inner = TableReader(table: thresholds, path: path + ".thresholds", file: file)
            for stream in SourceStream.allCases.map(\.rawValue) {
                if let share = try inner.double(stream, in: 0...1) { settings.maxMismatchedShare[stream] = share }
            }
            try inner.rejectUnknownKeys()
        }
        try reader.rejectUnknownKeys()
        return settings
    }

    /// The `kind = "opentravel"` keys: auth, cadence, fallback warning and the push login.
    private static func openTravelSettings(_ reader: inout TableReader, pull: Bool) throws -> OpenTravelSettings {
        var settings = OpenTravelSettings()
        settings.pull = pull
        if let auth = try reader.string("auth") {
            guard let value = OpenTravelSettings.Auth(rawValue: auth) else {
                throw ConfigError(
                    "\(reader.file): \(reader.path).auth \"\(auth)\" is unknown; fix: use basic or bearer")
            }
            settings.auth = value
        }
        settings.serveService = try reader.bool("serve_pull") ?? settings.serveService
        if let ms = try reader.int("poll_ms", in: 10...3_600_000) { settings.pollInterval = .milliseconds(ms) }
        if let ms = try reader.int("after_ack_ms", in: 10...3_600_000) { settings.afterAckInterval = .milliseconds(ms) }
        if let minutes = try reader.int("fallback_minutes", in: 1...10080) {
            settings.fallback = .seconds(minutes * 60)
        }
        if let minutes = try reader.int("fallback_warning_minutes", in: 0...10080) {
            settings.fallbackWarning = .seconds(minutes * 60)
        }
        settings.validationRetries = try reader.int("validation_retries", in: 0...20) ?? settings.validationRetries
        settings.pushUsername = try reader.string("push_username")
        try reader.rejectInlineSecret("push_password", use: "push_password_env or push_password_file")
        switch (try reader.string("push_password_env"), try reader.string("push_password_file")) {
        case (let variable?, nil): settings.pushPassword = .environment(variable: variable)
        case (nil, let path?): settings.pushPassword = .file(path: path)
        case (nil, nil): break
        default:
            throw ConfigError(
                "\(reader.file): \(reader.path) has both push_password_env and push_password_file; fix: keep one")
        }
        if (settings.pushUsername == nil) != (settings.pushPassword == nil) {
            throw ConfigError(
                "\(reader.file): \(reader.path) needs push_username and push_password_env (or push_password_file) together; fix: set both or neither"
            )
        }
        return settings
    }

    private static func secretReference(_ reader: inout TableReader, kind: SourceConfig.Kind) throws
        -> SecretReference
    {
        var found: [SecretReference] = []
        let path = reader.path
        if kind == .cursor {
            if let variable = try reader.string("token_env") { found.append(.environment(variable: variable)) }
            if let file = try reader.string("token_file") { found.append(.file(path: file)) }
        } else if kind == .opentravel {
            if let variable = try reader.string("credentials_env") { found.append(.environment(variable: variable)) }
            if let file = try reader.string("credentials_file") { found.append(.file(path: file)) }
        } else {
            if let file = try reader.string("credentials_file") { found.append(.file(path: file)) }
            if let dir = try reader.string("credentials_dir") { found.append(.directory(path: dir)) }
            if let prefix = try reader.string("credentials_env_prefix") { found.append(.environmentPrefix(prefix)) }
        }
        let keys =
            kind == .cursor
            ? "token_env or token_file"
            : kind == .opentravel
                ? "credentials_env or credentials_file (the account's \"username:password\")"
                : "credentials_file, credentials_dir or credentials_env_prefix"
        guard found.count == 1 else {
            throw ConfigError(
                "\(reader.file): \(path) needs exactly one of \(keys) (found \(found.count)); fix: name where the secret is, never the secret itself"
            )
        }
        return found[0]
    }
}

/// Reads typed keys from one TOML table and remembers which were read, so the
/// rest can be reported as unknown.
struct TableReader {
    let table: TOMLTable
    let path: String
    let file: String
    private var seen: Set<String> = []

    init(table: TOMLTable, path: String, file: String) {
        self.table = table
        self.path = path
        self.file = file
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func typeError(_ key: String, _ expected: String) -> ConfigError {
        ConfigError("\(file): \(name(key)) must be \(expected); fix: correct its value")
    }

    mutating func table(_ key: String) throws -> TOMLTable? {
        seen.insert(key)
        guard let value = table[key] else { return nil }
        guard let inner = value.table else { throw typeError(key, "a table") }
        return inner
    }

    mutating func string(_ key: String) throws -> String? {
        seen.insert(key)
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw typeError(key, "a string") }
        return text
    }

    mutating func requiredString(_ key: String) throws -> String {
        guard let text = try string(key) else {
            throw ConfigError("\(file): \(path) has no \(key); fix: add \(key) = \"...\" under [\(path)]")
        }
        return text
    }

    mutating func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        seen.insert(key)
        guard let value = table[key] else { return nil }
        guard let number = value.int else { throw typeError(key, "an integer") }
        guard range.contains(number) else {
            throw typeError(key, "between \(range.lowerBound) and \(range.upperBound), not \(number)")
        }
        return number
    }

    mutating func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        seen.insert(key)
        guard let value = table[key] else { return nil }
        guard let number = value.double ?? value.int.map(Double.init) else { throw typeError(key, "a number") }
        guard range.contains(number) else {
            throw typeError(key, "between \(range.lowerBound) and \(range.upperBound), not \(number)")
        }
        return number
    }

    mutating func bool(_ key: String) throws -> Bool? {
        seen.insert(key)
        guard let value = table[key] else { return nil }
        guard let flag = value.bool else { throw typeError(key, "true or false") }
        return flag
    }

    /// A secret written into the file itself is refused by name, with the reference to use
    /// instead (a config file is read by more people than a secret should be).
    func rejectInlineSecret(_ key: String, use references: String) throws {
        guard table[key] != nil else { return }
        throw ConfigError(
            "\(file): \(name(key)) holds a secret in the config file, and secrets go by reference only; fix: remove it, put the secret in an environment variable or a file readable only by the service, and name it with \(references)"
        )
    }

    mutating func stringArray(_ key: String) throws -> [String]? {
        seen.insert(key)
        guard let value = table[key] else { return nil }
        guard let array = value.array else { throw typeError(key, "an array of strings") }
        return try array.map { element in
            guard let text = element.string else { throw typeError(key, "an array of strings") }
            return text
        }
    }

    func rejectUnknownKeys() throws {
        let unknown = table.keys.filter { !seen.contains($0) }.sorted()
        if let first = unknown.first {
            throw ConfigError(
                "\(file): unknown key \(name(first)); fix: remove it or check its spelling against the README's configuration section"
            )
        }
    }
}
