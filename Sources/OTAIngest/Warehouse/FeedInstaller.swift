import Foundation
import PostgresClient
import WarehouseSQL

/// Applies `sql/feeds/NN_name.sql` (views and functions for pricing and ML).
///
/// Feeds are definitions, not history: each file drops and recreates what it
/// defines, so it is applied again whenever its checksum differs from the one
/// recorded in `ops.feed_definitions`, in its own transaction. A migration
/// would need a new file for every change to a view; this keeps one file per
/// feed that an analyst can read as the current definition.
struct FeedInstaller: Sendable {
    private let files: [SQLFileSet.File]

    init() throws {
        files = try SQLFileSet(WarehouseSQL.feeds, folder: "feeds").files
    }

    /// The feed files, in the order they are applied.
    var names: [String] { files.map(\.name) }

    /// The files that are new or differ from the ones recorded as applied; changes nothing.
    func changed(_ connection: PostgresConnection) async throws -> [String] {
        let recorded = try await recordedChecksums(connection)
        var changed: [String] = []
        for file in files where recorded[file.name] != (try await SQLFileSet.checksum(of: file.sql, on: connection)) {
            changed.append(file.name)
        }
        return changed
    }

    /// Applies the new and changed files; returns their names. The caller holds the migration lock.
    func install(_ connection: PostgresConnection) async throws -> [String] {
        let recorded = try await recordedChecksums(connection)
        var applied: [String] = []
        for file in files {
            let checksum = try await SQLFileSet.checksum(of: file.sql, on: connection)
            if recorded[file.name] == checksum { continue }
            do {
                try await connection.transaction { conn in
                    // The drops in a feed file notice that nothing exists on a first install; quiet them.
                    try await conn.execute("set local client_min_messages = warning")
                    try await conn.executeScript(file.sql)
                    try await conn.execute(
                        """
                        insert into ops.feed_definitions (name, checksum) values ($1, $2)
                        on conflict (name) do update set checksum = excluded.checksum, applied_at = now()
                        """, [file.name, checksum])
                }
            } catch let error as PostgresError {
                throw MigrationError(
                    "feeds/\(file.name) failed and was rolled back: \(error.message) (SQLSTATE \(error.sqlState.rawValue)); fix: correct the SQL in that file"
                )
            }
            applied.append("feeds/" + file.name)
        }
        return applied
    }

    private func recordedChecksums(_ connection: PostgresConnection) async throws -> [String: String] {
        var recorded: [String: String] = [:]
        for row in try await connection.query("select name, checksum from ops.feed_definitions") {
            recorded[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        return recorded
    }
}
