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
    private let feeds: FeedInstaller

    /// The migrations compiled into the binary.
    public init() throws {
        try self.init(migrations: Self.validated(WarehouseSQL.migrations.map { ($0.name, $0.sql) }))
    }

    /// Migrations read from `directory` instead (tests of the migrator itself).
    public init(directory: URL) throws {
        try self.init(migrations: Self.readMigrations(directory))
    }

    private init(migrations: [Migration]) throws {
        self.migrations = migrations
        self.bootstrap = WarehouseSQL.bootstrap
        self.feeds = try FeedInstaller()
    }

    public var available: [Migration] { migrations }

    /// Applies what is pending. When nothing is, it changes nothing and needs no rights
    /// beyond reading ops (the daily role's nightly); when something is and this role
    /// does not own the warehouse, it fails naming the command and the role that can.
    public func migrate(_ connection: PostgresConnection) async throws -> Report {
        let before = try await state(connection)
        if before.isCurrent {
            return Report(applied: [], alreadyApplied: before.applied)
        }
        let applier = try await Self.applier(connection)
        guard applier.allowed else { throw MigrationError(Self.notTheOwner(before, applier)) }
        return try await connection.withAdvisoryLock(Self.lockKey) { conn in
            var report = try await applyPending(conn)
            // Feeds are rebuilt in place after the schema they read is current.
            report.feedsApplied = try await feeds.install(conn)
            if try await Distribution.isDistributed(conn) {
                try await Distribution().afterMigrate(conn)
            }
            return report
        }
    }

    /// Where the warehouse stands against this binary, without changing anything.
    public struct State: Sendable {
        /// Migrations this binary ships that the warehouse has not applied, by file name.
        public var pending: [String]
        /// Feed definitions that are new or differ from the ones applied, as `feeds/NAME`.
        public var changedFeeds: [String]
        /// Migrations already applied.
        public var applied: Int

        public var isCurrent: Bool { pending.isEmpty && changedFeeds.isEmpty }
    }

    /// Reads the ledgers: pending migrations and changed feeds. A migration the database
    /// has but this binary does not ship, or an applied file that changed, is an error.
    public func state(_ connection: PostgresConnection) async throws -> State {
        let exists = try await connection.query("select to_regclass('ops.schema_migrations') is not null")
        guard try exists[0].decode(Bool.self, at: 0) else {
            return State(pending: migrations.map(\.name), changedFeeds: feeds.names.map { "feeds/" + $0 }, applied: 0)
        }
        let applied = try await appliedChecksums(connection)
        try refuseUnknown(applied)
        var state = State(pending: [], changedFeeds: [], applied: 0)
        for migration in migrations {
            guard let recorded = applied[migration.version] else {
                state.pending.append(migration.name)
                continue
            }
            guard recorded.checksum == (try await Self.checksum(of: migration.sql, on: connection)) else {
                throw MigrationError(
                    "\(migration.name) was changed after it was applied (checksum differs); fix: restore the file and put the change in a new migration"
                )
            }
            state.applied += 1
        }
        let hasFeedLedger = try await connection.query("select to_regclass('ops.feed_definitions') is not null")
        state.changedFeeds =
            try hasFeedLedger[0].decode(Bool.self, at: 0)
            ? try await feeds.changed(connection).map { "feeds/" + $0 } : feeds.names.map { "feeds/" + $0 }
        return state
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

    /// Whether this session's role may change the warehouse: it owns the schemas (or is a
    /// member of the role that does, or a superuser), or there are none yet and it may create them.
    private static func applier(_ connection: PostgresConnection) async throws -> (
        allowed: Bool, role: String, owner: String?
    ) {
        let rows = try await connection.query(
            """
            select case when n.oid is null then has_database_privilege(current_database(), 'CREATE')
                        else pg_has_role(n.nspowner, 'USAGE') end,
                   current_user::text, pg_get_userbyid(n.nspowner)::text
            from (select 1) one left join pg_namespace n on n.nspname = 'ops'
            """)
        return (
            try rows[0].decode(Bool.self, at: 0), try rows[0].decode(String.self, at: 1),
            try rows[0].decode(String?.self, at: 2)
        )
    }

    private static func notTheOwner(_ state: State, _ applier: (allowed: Bool, role: String, owner: String?))
        -> String
    {
        var what: [String] = []
        if !state.pending.isEmpty {
            what.append(
                "\(state.pending.count) migration\(state.pending.count == 1 ? "" : "s") (\(Self.list(state.pending)))")
        }
        if !state.changedFeeds.isEmpty {
            what.append(
                "\(state.changedFeeds.count) feed definition\(state.changedFeeds.count == 1 ? "" : "s") (\(Self.list(state.changedFeeds)))"
            )
        }
        let one = state.pending.count + state.changedFeeds.count == 1
        let pending = what.joined(separator: " and ") + (one ? " is pending; role" : " are pending; role")
        guard let owner = applier.owner else {
            return
                "the warehouse has no schema yet and role \(applier.role) may not create one; fix: run `ota-ingest migrate` as the warehouse's owner role (`ota-ingest setup-roles` prints the SQL that creates it)"
        }
        return
            "\(pending) \(applier.role) cannot apply \(one ? "it" : "them") (the warehouse belongs to \(owner)); fix: run `ota-ingest migrate` as \(owner), then rerun"
    }

    /// A migration the database has and this binary does not: an older binary must not go on.
    private func refuseUnknown(_ applied: [Int: (name: String, checksum: String)]) throws {
        let known = Set(migrations.map(\.version))
        if let unknown = applied.keys.sorted().first(where: { !known.contains($0) }) {
            throw MigrationError(
                "the database has migration \(applied[unknown]!.name) that this ota-ingest does not ship; fix: run the ota-ingest version that applied it, or a newer one"
            )
        }
    }

    private static func list(_ names: [String]) -> String {
        names.count <= 3 ? names.joined(separator: ", ") : names.prefix(3).joined(separator: ", ") + ", ..."
    }

    private func appliedChecksums(_ connection: PostgresConnection) async throws -> [Int: (
        name: String, checksum: String
    )] {
        var applied: [Int: (name: String, checksum: String)] = [:]
        for row in try await connection.query("select version, name, checksum from ops.schema_migrations") {
            applied[try row.decode(Int.self, at: 0)] = (
                try row.decode(String.self, at: 1), try row.decode(String.self, at: 2)
            )
        }
        return applied
    }

    private func applyPending(_ connection: PostgresConnection) async throws -> Report {
        try await connection.executeScript(bootstrap)
        let appliedChecksums = try await appliedChecksums(connection)
        try refuseUnknown(appliedChecksums)

        var report = Report(applied: [], alreadyApplied: 0)
        // On a Citus cluster each migration places the tables it creates by sql/citus/layout.sql,
        // in its own transaction, so the warehouse is never half distributed.
        let distributed = try await Distribution.isDistributed(connection)
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
                    if distributed {
                        // One connection per node: Citus refuses a function or reference-table change
                        // after shards were read in parallel in the same transaction.
                        _ = try await conn.query("set local citus.multi_shard_modify_mode to 'sequential'")
                        try await Distribution.runScript(migration.sql, on: conn)
                    } else {
                        try await conn.executeScript(migration.sql)
                    }
                    if distributed {
                        try await Distribution().placeNewTables(conn, migration: migration.name)
                    }
                    _ = try await conn.execute(
                        "insert into ops.schema_migrations (version, name, checksum) values ($1, $2, $3)",
                        [migration.version, migration.name, checksum])
                }
            } catch let error as PostgresError {
                throw MigrationError(
                    "\(migration.name) failed and was rolled back\(distributed ? " on this Citus cluster" : ""): \(error.message) (SQLSTATE \(error.sqlState.rawValue)); fix: correct the SQL in that file"
                        + (distributed ? " so that Citus can apply it (docs/scaling.md)" : ""))
            } catch let error as DistributionError {
                throw MigrationError("\(migration.name) was rolled back: \(error.message)")
            }
            report.applied.append(migration.name)
        }
        return report
    }

    static func checksum(of sql: String, on connection: PostgresConnection) async throws -> String {
        try await SQLFileSet.checksum(of: sql, on: connection)
    }

    static func readMigrations(_ directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError("cannot read the migrations in \(directory.path); fix: check the path")
        }
        return try validated(
            names.sorted().filter { $0.hasSuffix(".sql") }.map { name in
                (name, try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
            })
    }

    /// Named `NNNN_name.sql`, one file per version, in version order.
    static func validated(_ files: [(name: String, sql: String)]) throws -> [Migration] {
        var migrations: [Migration] = []
        for (name, sql) in files {
            guard name.range(of: #"^[0-9]{4}_[a-z0-9_]+\.sql$"#, options: .regularExpression) != nil,
                let version = Int(name.prefix(4))
            else {
                throw MigrationError("migration file \(name) is not named NNNN_name.sql; fix: rename it")
            }
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
