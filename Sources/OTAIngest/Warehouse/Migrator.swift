import Foundation
import PostgresClient
import WarehouseSQL

/// Applies `sql/migrations/NNNN_name.sql` in order, each in its own transaction,
/// and records each with its checksum in `ops.schema_migrations`.
///
/// A session advisory lock serialises concurrent runs: the second waits, then
/// finds everything applied.
public struct Migrator: Sendable {
    /// One migration file.
    public struct Migration: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    /// What a run did.
    public struct Report: Sendable {
        public var applied: [String]
        public var alreadyApplied: Int
        /// The sql/feeds/ files (re)applied because they were new or changed.
        public var feedsApplied: [String] = []
    }

    /// Fixed, never derived from input: "ota-ingest migrate" as a lock key.
    static let lockKey: Int64 = 0x6f74_615f_6d69_6772

    private let migrations: [Migration]
    private let bootstrap: String

    /// Reads the migrations shipped in the binary's resources, or from `directory`.
    public init(directory: URL = WarehouseSQL.migrationsDirectory) throws {
        self.migrations = try Self.readMigrations(directory)
        self.bootstrap = try String(contentsOf: WarehouseSQL.bootstrapFile, encoding: .utf8)
    }

    public var available: [Migration] { migrations }

    public func migrate(_ connection: PostgresConnection) async throws -> Report {
        try await connection.withAdvisoryLock(Self.lockKey) { conn in
            var report = try await applyPending(conn)
            // Feeds are rebuilt in place after the schema they read is current.
            report.feedsApplied = try await FeedInstaller().install(conn)
            return report
        }
    }

    /// The shipped migrations the database has not applied (all of them on an empty database).
    public func pending(_ connection: PostgresConnection) async throws -> [String] {
        let exists = try await connection.query("select to_regclass('ops.schema_migrations') is not null")
        guard try exists[0].decode(Bool.self, at: 0) else { return migrations.map(\.name) }
        let applied = Set(
            try await connection.query("select version from ops.schema_migrations").map {
                try $0.decode(Int.self, at: 0)
            })
        return migrations.filter { !applied.contains($0.version) }.map(\.name)
    }

    private func applyPending(_ connection: PostgresConnection) async throws -> Report {
        try await connection.executeScript(bootstrap)
        let rows = try await connection.query("select version, name, checksum from ops.schema_migrations")
        var appliedChecksums: [Int: (name: String, checksum: String)] = [:]
        for row in rows {
            appliedChecksums[try row.decode(Int.self, at: 0)] = (
                try row.decode(String.self, at: 1), try row.decode(String.self, at: 2)
            )
        }
        let known = Set(migrations.map(\.version))
        if let unknown = appliedChecksums.keys.sorted().first(where: { !known.contains($0) }) {
            throw MigrationError(
                "the database has migration \(appliedChecksums[unknown]!.name) that this ota-ingest does not ship; fix: run the ota-ingest version that applied it, or a newer one"
            )
        }

        var report = Report(applied: [], alreadyApplied: 0)
        for migration in migrations {
            let checksum = try await Self.checksum(of: migration.sql, on: connection)
            if let applied = appliedChecksums[migration.version] {
                guard applied.checksum == checksum else {
                    throw MigrationError(
                        "\(migration.name) was changed after it was applied (checksum differs); fix: restore the file and put the change in a new migration"
                    )
                }
                report.alreadyApplied += 1
                continue
            }
            do {
                try await connection.transaction { conn in
                    try await conn.executeScript(migration.sql)
                    _ = try await conn.execute(
                        "insert into ops.schema_migrations (version, name, checksum) values ($1, $2, $3)",
                        [migration.version, migration.name, checksum])
                }
            } catch let error as PostgresError {
                throw MigrationError(
                    "\(migration.name) failed and was rolled back: \(error.message) (SQLSTATE \(error.sqlState.rawValue)); fix: correct the SQL in that file"
                )
            }
            report.applied.append(migration.name)
        }
        return report
    }

    static func checksum(of sql: String, on connection: PostgresConnection) async throws -> String {
        // libpq has no hashing of its own and Foundation has no SHA-256 on Linux;
        // the server's sha256() is exact and always there.
        let rows = try await connection.query("select encode(sha256($1::bytea), 'hex')", [Array(sql.utf8)])
        return try rows[0].decode(String.self, at: 0)
    }

    static func readMigrations(_ directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError(
                "cannot read the migrations in \(directory.path); fix: reinstall ota-ingest with its resources")
        }
        var migrations: [Migration] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            guard name.range(of: #"^[0-9]{4}_[a-z0-9_]+\.sql$"#, options: .regularExpression) != nil,
                let version = Int(name.prefix(4))
            else {
                throw MigrationError("migration file \(name) is not named NNNN_name.sql; fix: rename it")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            if let previous = migrations.last, previous.version == version {
                throw MigrationError(
                    "migrations \(previous.name) and \(name) share version \(version); fix: renumber one")
            }
            migrations.append(Migration(version: version, name: name, sql: sql))
        }
        return migrations
    }
}

/// A migration could not be applied; nothing of the failing file remains.
public struct MigrationError: UserFacingError {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var exitStatus: ExitStatus { .failure }
    public var description: String { "migrate: " + message }
}
