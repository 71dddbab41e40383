import Foundation
import PostgresClient
import WarehouseSQL

/// Applies `sql/feeds/NN_name.sql` (views and functions for pricing and ML).
///
/// Feeds are definitions, not history: each file drops and recreates what it
/// defines, so it is applied again whenever its checksum differs from the one
/// recorded in `ops.feed_definitions`, with every file after it. A migration
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

    /// Applies the first new or changed file and every file after it, in one transaction;
    /// returns their names. The caller holds the migration lock. Later files are applied
    /// again too because they may depend on what an earlier one drops and recreates (a
    /// view of an older release that used a function the changed file drops would make
    /// that drop fail), and one transaction means a failure leaves every feed as it was.
    func install(_ connection: PostgresConnection) async throws -> [String] {
        let recorded = try await recordedChecksums(connection)
        var checksums: [String] = []
        for file in files { checksums.append(try await SQLFileSet.checksum(of: file.sql, on: connection)) }
        guard let first = files.indices.first(where: { recorded[files[$0].name] != checksums[$0] }) else { return [] }
        let applying = Array(first..<files.count)
        do {
            try await connection.transaction { conn in
                // The drops in a feed file notice that nothing exists on a first install; quiet them.
                try await conn.execute("set local client_min_messages = warning")
                for index in applying {
                    do {
                        try await conn.executeScript(files[index].sql)
                    } catch let error as PostgresError {
                        throw FeedFailure(file: files[index].name, error: error)
                    }
                    try await conn.execute(
                        """
                        insert into ops.feed_definitions (name, checksum) values ($1, $2)
                        on conflict (name) do update set checksum = excluded.checksum, applied_at = now()
                        """, [files[index].name, checksums[index]])
                }
            }
        } catch let failure as FeedFailure {
            let range = "feeds/\(files[first].name) to feeds/\(files[files.count - 1].name)"
            throw MigrationError(
                "feeds/\(failure.file) failed: \(failure.error.message) (SQLSTATE \(failure.error.sqlState.rawValue)); nothing of \(range) was applied; fix: correct the SQL in that file"
            )
        }
        return files[first...].map { "feeds/" + $0.name }
    }

    private struct FeedFailure: Error {
        let file: String
        let error: PostgresError
    }

    private func recordedChecksums(_ connection: PostgresConnection) async throws -> [String: String] {
        var recorded: [String: String] = [:]
        for row in try await connection.query("select name, checksum from ops.feed_definitions") {
            recorded[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        return recorded
    }
}
