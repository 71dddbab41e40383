import ArgumentParser
import Foundation
import IngestCore
import OTAIngest
import PostgresClient

/// Options every warehouse command shares.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "libpq URI or conninfo of the warehouse (default: $DATABASE_URL).", valueName: "url"))
    var databaseURL: String?

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("TOML configuration file (default: $OTA_INGEST_CONFIG).", valueName: "path"))
    var configPath: String?

    /// The database URL from the flag or the environment; a configuration error when neither is set.
    func resolvedDatabaseURL() throws -> String {
        if let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            return url
        }
        throw ConfigError(
            "no database given; fix: pass --database-url or set DATABASE_URL (e.g. postgresql://user@host:5432/warehouse)"
        )
    }

    /// The parsed configuration, or nil when no file is named.
    func loadConfig() throws -> IngestConfig? {
        guard let path = configPath ?? ProcessInfo.processInfo.environment["OTA_INGEST_CONFIG"], !path.isEmpty else {
            return nil
        }
        return try ConfigLoader.load(path: path)
    }

    /// Connects, runs `body`, and closes the connection however `body` ends; a malformed
    /// URL is a configuration error (exit status 2), a database error the one-line
    /// `DatabaseFailure` (exit status 1).
    func withConnection<Value>(_ body: (PostgresConnection) async throws -> Value) async throws -> Value {
        let url = try resolvedDatabaseURL()
        do {
            try PostgresConnection.validate(conninfo: url)
        } catch let error as PostgresError {
            throw ConfigError("DATABASE_URL: \(error)")
        }
        do {
            return try await PostgresConnection.withConnection(url, body)
        } catch let error as PostgresError {
            throw DatabaseFailure(error: error)
        }
    }
}

/// A database error as the user sees it: one line, exit status 1.
struct DatabaseFailure: UserFacingError {
    var error: PostgresError

    var exitStatus: ExitStatus { .failure }
    var description: String { "database: \(error)" }

    static func describe(_ error: any Error) -> String? {
        (error as? PostgresError).map { "database: \($0)" }
    }
}
