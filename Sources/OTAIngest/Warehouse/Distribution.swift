import Foundation
import PostgresClient
import WarehouseSQL

/// Places the warehouse's tables on a Citus cluster by `sql/citus/layout.sql`:
/// staging, facts, recon and the watermarks hash-distributed by property and
/// colocated, dims as reference tables, the rest of ops local on the coordinator
/// (added to Citus metadata). `ota-ingest distribute` applies it to a migrated
/// warehouse; the migrator applies it to the tables each later migration creates.
///
/// Everything here is idempotent: a table already placed is left alone, so a
/// second run, or a run after a crash half-way, finishes the layout.
public struct Distribution: Sendable {
    public enum Placement: String, Sendable {
        case distributed, reference, local
    }

    public struct Entry: Sendable, Equatable {
        public var table: String
        public var placement: Placement
    }

    /// What a run placed, by table name, in layout order.
    public struct Report: Sendable {
        public var placed: [Entry] = []
        public var alreadyPlaced = 0
        public var functions = 0
    }

    /// The table every distributed table is colocated with; it fixes the shard count.
    public static let anchor = "staging.reservation_events"

    /// The schemas whose tables the layout must name (an SQL list: constants, never input).
    static let schemas = "('ops', 'staging', 'facts', 'recon', 'dims', 'feeds')"

    let layoutSQL: String
    let landingFenceSQL: String
    let sqlFunctionsSQL: String

    public init() {
        let files = WarehouseSQL.files(in: "citus")
        layoutSQL = files.first { $0.name == "layout.sql" }?.sql ?? ""
        landingFenceSQL = files.first { $0.name == "landing_fence.sql" }?.sql ?? ""
        sqlFunctionsSQL = files.first { $0.name == "sql_functions.sql" }?.sql ?? ""
    }

    /// After migrations and feed definitions changed a distributed warehouse: functions that
    /// read distributed tables wrapped for Citus (sql/citus/sql_functions.sql), and every
    /// function of the warehouse known to the workers.
    func afterMigrate(_ connection: PostgresConnection) async throws {
        try await connection.transaction { conn in
            try await Self.runScript(sqlFunctionsSQL, on: conn)
            _ = try await Self.distributeFunctions(conn)
        }
    }

    /// True when the database has the Citus extension and the anchor table is distributed:
    /// from then on the migrator places new tables, and the SQL takes its Citus paths.
    public static func isDistributed(_ connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query(
            """
            select exists (select 1 from pg_extension where extname = 'citus')
               and to_regclass($1) is not null
            """, [anchor])
        guard try rows[0].decode(Bool.self, at: 0) else { return false }
        return try await connection.query(
            "select 1 from pg_dist_partition where logicalrelid = $1::regclass", [anchor]
        ).count == 1
    }

    /// The layout, as `sql/citus/layout.sql` says.
    public func layout(_ connection: PostgresConnection) async throws -> [Entry] {
        try await connection.query(layoutSQL).map { row in
            let table = try row.decode(String.self, at: 0)
            let placement = try row.decode(String.self, at: 1)
            guard let known = Placement(rawValue: placement) else {
                throw DistributionError(
                    "sql/citus/layout.sql places \(table) as '\(placement)'; fix: use distributed, reference or local")
            }
            return Entry(table: table, placement: known)
        }
    }

    /// Turns a migrated warehouse into the layout. Refuses a server without Citus or
    /// without workers, and a warehouse that was never migrated.
    public func distribute(_ connection: PostgresConnection, shardCount: Int) async throws -> Report {
        try await Self.requireCitus(connection)
        let migrated = try await connection.query("select to_regclass($1) is not null", [Self.anchor])
        guard try migrated[0].decode(Bool.self, at: 0) else {
            throw DistributionError(
                "the warehouse has no schema yet; fix: run `ota-ingest migrate`, then `ota-ingest distribute`",
                status: .usage)
        }
        return try await connection.withAdvisoryLock(Migrator.lockKey) { conn in
            try await conn.transaction { conn in
                var report = try await place(conn, shardCount: shardCount, requireAll: true)
                try await Self.runScript(landingFenceSQL, on: conn)
                try await Self.runScript(sqlFunctionsSQL, on: conn)
                report.functions = try await Self.distributeFunctions(conn)
                return report
            }
        }
    }

    /// After a migration on a distributed warehouse: places the tables it created (a table
    /// the layout does not name fails the migration) and sends its functions to the workers.
    func placeNewTables(_ connection: PostgresConnection, migration: String) async throws {
        _ = try await place(connection, shardCount: 32, requireAll: true, migration: migration)
        _ = try await Self.distributeFunctions(connection)
    }

    /// Places the tables that exist and are not in Citus metadata yet; with `requireAll`,
    /// a table of the warehouse's schemas that the layout does not name is an error (the
    /// migrator passes the migration's name for the message).
    func place(
        _ connection: PostgresConnection, shardCount: Int, requireAll: Bool, migration: String? = nil
    ) async throws -> Report {
        let entries = try await layout(connection)
        var report = Report()
        let placed = Set(
            try await connection.query(
                "select logicalrelid::regclass::text from pg_dist_partition"
            ).map { try $0.decode(String.self, at: 0) })
        if requireAll {
            let named = Set(entries.map(\.table))
            let unplaced = try await connection.query(
                """
                select c.oid::regclass::text
                from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname in \(Self.schemas) and c.relkind in ('r', 'p') and not c.relispartition
                order by 1
                """
            ).map { try $0.decode(String.self, at: 0) }.filter { !named.contains($0) && !placed.contains($0) }
            if let table = unplaced.first {
                let cause = migration.map { "\($0) created table \(table)" } ?? "table \(table) exists"
                throw DistributionError(
                    "\(cause), which sql/citus/layout.sql does not place; fix: add it there (distributed, reference or local), next to the migration"
                )
            }
        }
        // Citus converts what a foreign key connects as one piece, and does it over one
        // connection per node: reference tables first (local ones referencing them are
        // carried along), then the distributed ones, then the local rest.
        _ = try await connection.query("set local citus.multi_shard_modify_mode to 'sequential'")
        let order: [Placement] = [.reference, .distributed, .local]
        for entry in order.flatMap({ placement in entries.filter { $0.placement == placement } }) {
            // A local table stays a plain table on the coordinator: nothing to do.
            if entry.placement == .local { continue }
            if placed.contains(entry.table) {
                report.alreadyPlaced += 1
                continue
            }
            let exists = try await connection.query("select to_regclass($1) is not null", [entry.table])
            guard try exists[0].decode(Bool.self, at: 0) else { continue }
            do {
                switch entry.placement {
                case .distributed where entry.table == Self.anchor:
                    _ = try await connection.query(
                        "select create_distributed_table($1::regclass, 'property_code', shard_count => $2::integer)",
                        [entry.table, shardCount])
                case .distributed:
                    _ = try await connection.query(
                        "select create_distributed_table($1::regclass, 'property_code', colocate_with => $2::text)",
                        [entry.table, Self.anchor])
                case .reference:
                    _ = try await connection.query("select create_reference_table($1::regclass)", [entry.table])
                case .local:
                    continue
                }
            } catch let error as PostgresError {
                throw DistributionError(
                    "Citus cannot place \(entry.table) as \(entry.placement.rawValue)\(migration.map { " (created by \($0))" } ?? ""): \(error.message); fix: change the table or its line in sql/citus/layout.sql"
                )
            }
            report.placed.append(entry)
        }
        return report
    }

    /// A script one statement at a time, as psql sends a file: Citus forwards some DDL to
    /// the workers as the command string it came in, which must hold one command.
    public static func runScript(_ sql: String, on connection: PostgresConnection) async throws {
        for statement in SQLStatements.split(sql) {
            try await connection.executeScript(statement)
        }
    }

    /// Functions of the warehouse's schemas that statements pushed down to the workers call
    /// (row hashes, the guest hash): Citus sends the statement's text, so each worker needs
    /// the definition. Functions created after this are propagated by Citus itself.
    static func distributeFunctions(_ connection: PostgresConnection) async throws -> Int {
        let functions = try await connection.query(
            """
            select p.oid::regprocedure::text
            from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname in \(schemas) and p.prokind = 'f'
              and not exists (
                  select 1 from pg_catalog.pg_dist_object o
                  where o.classid = 'pg_proc'::regclass and o.objid = p.oid)
            order by 1
            """
        ).map { try $0.decode(String.self, at: 0) }
        for function in functions {
            _ = try await connection.query("select create_distributed_function($1::regprocedure)", [function])
        }
        return functions.count
    }

    static func requireCitus(_ connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            select exists (select 1 from pg_available_extensions where name = 'citus'),
                   exists (select 1 from pg_extension where extname = 'citus'),
                   current_setting('shared_preload_libraries') ~ '(^|[ ,])citus($|[ ,])'
            """)
        let available = try rows[0].decode(Bool.self, at: 0)
        let created = try rows[0].decode(Bool.self, at: 1)
        let preloaded = try rows[0].decode(Bool.self, at: 2)
        guard available && preloaded else {
            throw DistributionError(
                "this server has no Citus (\(available ? "not in shared_preload_libraries" : "extension not installed")); fix: install Citus on every node, set shared_preload_libraries = 'citus', restart, then rerun (docs/scaling.md)",
                status: .usage)
        }
        if !created {
            _ = try await connection.query("create extension if not exists citus")
        }
        let workers = try await connection.query(
            "select count(*)::integer from pg_dist_node where noderole = 'primary' and isactive and groupid <> 0")
        guard try workers[0].decode(Int.self, at: 0) > 0 else {
            throw DistributionError(
                "this Citus coordinator has no workers; fix: select citus_set_coordinator_host('HOST', PORT) and select citus_add_node('HOST', PORT) for each worker, then rerun (docs/scaling.md)",
                status: .usage)
        }
    }
}

/// The layout could not be applied; nothing of the failed run remains (one transaction).
public struct DistributionError: UserFacingError {
    public var message: String
    public var exitStatus: ExitStatus

    public init(_ message: String, status: ExitStatus = .failure) {
        self.message = message
        self.exitStatus = status
    }

    public var description: String { "distribute: " + message }
}
