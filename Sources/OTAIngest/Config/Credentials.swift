import Foundation
import Synchronization

/// One WebHotelier property account: Basic-auth credentials for one property.
public struct PropertyAccount: Sendable, Equatable {
    public var propertyCode: String
    public var username: String
    public var password: String

    public init(propertyCode: String, username: String, password: String) {
        self.propertyCode = propertyCode
        self.username = username
        self.password = password
    }
}

/// Resolves a source's secret references at run time.
///
/// Messages name the variable, file or property and never the secret itself.
public struct SecretResolver: Sendable {
    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// A cursor feed's bearer token.
    public func token(for source: SourceConfig) throws -> String {
        switch source.secrets {
        case .environment(let variable):
            guard let value = environment[variable], !value.isEmpty else {
                throw ConfigError(
                    "source \"\(source.name)\": token_env \(variable) is not set; fix: export \(variable) with the API token"
                )
            }
            return value
        case .file(let path):
            return try readSecretFile(path, source: source.name, key: "token_file")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        case .directory, .environmentPrefix:
            throw ConfigError("source \"\(source.name)\": a cursor feed needs token_env or token_file")
        }
    }

    /// An OpenTravel account's `username:password` (the pull's machine account).
    public func login(for source: SourceConfig) throws -> (username: String, password: String) {
        let text: String
        switch source.secrets {
        case .environment(let variable):
            guard let value = environment[variable], !value.isEmpty else {
                throw ConfigError(
                    "source \"\(source.name)\": credentials_env \(variable) is not set; fix: export \(variable) as username:password"
                )
            }
            text = value
        case .file(let path):
            text = try readSecretFile(path, source: source.name, key: "credentials_file")
        case .directory, .environmentPrefix:
            throw ConfigError(
                "source \"\(source.name)\": an opentravel source needs credentials_env or credentials_file")
        }
        guard let account = Self.account(code: "account", userColonPassword: text) else {
            throw ConfigError(
                "source \"\(source.name)\": its credentials are not \"username:password\"; fix: write them so")
        }
        return (account.username, account.password)
    }

    /// The property accounts of a WebHotelier source, filtered to `source.properties` when set.
    public func accounts(for source: SourceConfig) throws -> [PropertyAccount] {
        var accounts: [String: PropertyAccount] = [:]
        switch source.secrets {
        case .file(let path):
            let text = try readSecretFile(path, source: source.name, key: "credentials_file")
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                let parts = trimmed.split(separator: " ", maxSplits: 1).map(String.init)
                guard parts.count == 2, let account = Self.account(code: parts[0], userColonPassword: parts[1]) else {
                    throw ConfigError(
                        "source \"\(source.name)\": credentials_file \(path) line \(number + 1) is not \"CODE username:password\"; fix: correct that line"
                    )
                }
                accounts[account.propertyCode] = account
            }
        case .directory(let configured):
            let path = try expanded(configured, what: "source \"\(source.name)\": credentials_dir")
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: path)
            } catch {
                throw ConfigError(
                    "source \"\(source.name)\": credentials_dir \(path) cannot be listed; fix: create it with one file per property code"
                )
            }
            SecretFileMode.warnIfOpen(path, what: "source \"\(source.name)\": credentials_dir")
            for name in names.sorted() where !name.hasPrefix(".") {
                let text = try readSecretFile(
                    (path as NSString).appendingPathComponent(name), source: source.name, key: "credentials_dir")
                guard let account = Self.account(code: name, userColonPassword: text) else {
                    throw ConfigError(
                        "source \"\(source.name)\": credentials_dir file \(name) is not \"username:password\"; fix: correct that file"
                    )
                }
                accounts[name] = account
            }
        case .environmentPrefix(let prefix):
            for (key, value) in environment where key.hasPrefix(prefix) {
                let code = String(key.dropFirst(prefix.count))
                guard let account = Self.account(code: code, userColonPassword: value) else {
                    throw ConfigError(
                        "source \"\(source.name)\": environment variable \(key) is not \"username:password\"; fix: set it so"
                    )
                }
                accounts[code] = account
            }
        case .environment:
            throw ConfigError(
                "source \"\(source.name)\": a webhotelier source needs credentials_file, credentials_dir or credentials_env_prefix"
            )
        }
        if source.properties.isEmpty {
            guard !accounts.isEmpty else {
                throw ConfigError(
                    "source \"\(source.name)\": no property accounts found in its credentials; fix: add one entry per property"
                )
            }
            return accounts.keys.sorted().map { accounts[$0]! }
        }
        return try source.properties.map { code in
            guard let account = accounts[code] else {
                throw ConfigError(
                    "source \"\(source.name)\": no credentials for property \(code); fix: add an entry for \(code) to the source's credentials"
                )
            }
            return account
        }
    }

    private static func account(code: String, userColonPassword: String) -> PropertyAccount? {
        let text = userColonPassword.trimmingCharacters(in: .whitespacesAndNewlines)
        // Basic auth forbids ':' in user names, so the first colon splits.
        guard !code.isEmpty, let colon = text.firstIndex(of: ":") else { return nil }
        let username = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        guard !username.isEmpty, !password.isEmpty else { return nil }
        return PropertyAccount(propertyCode: code, username: username, password: password)
    }

    /// A secret file's path with a leading `$CREDENTIALS_DIRECTORY` (or `${CREDENTIALS_DIRECTORY}`)
    /// replaced by that variable: one config serves every systemd unit, each of which gets
    /// its credentials in a directory of its own.
    public func expanded(_ path: String, what: String) throws -> String {
        for prefix in ["${CREDENTIALS_DIRECTORY}", "$CREDENTIALS_DIRECTORY"] where path.hasPrefix(prefix) {
            guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                throw ConfigError(
                    "\(what) \(path): CREDENTIALS_DIRECTORY is not set (only systemd sets it, for a unit with LoadCredential=); fix: run it from its unit, or name the file's real path"
                )
            }
            return directory + path.dropFirst(prefix.count)
        }
        return path
    }

    private func readSecretFile(_ configured: String, source: String, key: String) throws -> String {
        let path = try expanded(configured, what: "source \"\(source)\": \(key)")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(
                "source \"\(source)\": \(key) \(path) cannot be read; fix: create it or check its permissions")
        }
        SecretFileMode.warnIfOpen(path, what: "source \"\(source)\": \(key)")
        return String(decoding: data, as: UTF8.self)
    }
}

/// Warns, as ssh does for a private key, when a file or folder holding secrets can be
/// read by every user of the machine. A warning, not a refusal: some deployments
/// mount secrets read-only with modes they cannot change.
enum SecretFileMode {
    private static let warned = Mutex<Set<String>>([])

    /// The warning for `path`, or nil when only its owner and group can read it.
    static func warning(_ path: String, what: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IROTH != 0 else { return nil }
        let mode = String(info.st_mode & 0o777, radix: 8)
        return
            "\(what) \(path) is readable by every user (mode \(mode)); fix: chmod o-rwx \(path) (e.g. 600, or 640 with the service's group)"
    }

    /// Warns once per path and process (the receiver reads the same file for every PING).
    static func warnIfOpen(_ path: String, what: String) {
        guard let message = warning(path, what: what) else { return }
        let first = warned.withLock { $0.insert(path).inserted }
        // Secrets are resolved before a run's log exists, so the line is written in the text log's form.
        if first { FileHandle.standardError.write(Data("[warning] \(message)\n".utf8)) }
    }
}
