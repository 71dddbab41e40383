import Foundation
import PostgresClient

/// recon.snapshots: finding the latest snapshot of a scope, pinning, pruning.
/// The snapshots themselves are written by the readers (CursorSnapshot,
/// InventorySnapshot, ReservationSnapshot), each in one transaction.
enum SnapshotStore {
    struct Stored: Sendable {
        var id: Int64
        var takenAt: Date
        var feedRunID: String?
        var runID: String
    }

    static func latest(source: String, stream: String, property: String, on connection: PostgresConnection)
        async throws -> Stored?
    {
        let rows = try await connection.query(
            """
            select snapshot_id, taken_at, feed_run_id, run_id from recon.snapshots
            where source = $1 and stream = $2 and property_code = $3
            order by snapshot_id desc limit 1
            """, [source, stream, property])
        guard let row = rows.first else { return nil }
        return Stored(
            id: try row.decode(Int64.self, at: 0), takenAt: try row.decode(Date.self, at: 1),
            feedRunID: try row.decode(String?.self, at: 2), runID: try row.decode(String.self, at: 3))
    }

    /// Inserts the snapshot's row inside the caller's transaction; the keys follow in the same one.
    static func insert(
        source: String, stream: String, property: String, scope: String, readKind: String, takenAt: Date,
        stayFrom: CivilDate?, stayTo: CivilDate?, modifiedSince: Date?, feedRunID: String?, runID: String,
        on conn: PostgresConnection
    ) async throws -> Int64 {
        let rows = try await conn.query(
            """
            insert into recon.snapshots (source, stream, property_code, scope, read_kind, taken_at, stay_from, stay_to,
                                         modified_since, feed_run_id, keys, run_id)
            values ($1, $2, $3, $4, $5, $6, $7::date, $8::date, $9, $10, 0, $11)
            returning snapshot_id
            """,
            [
                source, stream, property, scope, readKind, takenAt, stayFrom?.description, stayTo?.description,
                modifiedSince, feedRunID, runID,
            ])
        return try rows[0].decode(Int64.self, at: 0)
    }

    /// Sets the key count (and the read's counts) once the keys are in.
    static func finish(_ id: Int64, table: SnapshotTable, counts: [String: Int], on conn: PostgresConnection)
        async throws -> Int
    {
        let json = try String(
            decoding: JSONSerialization.data(withJSONObject: counts, options: [.sortedKeys]), as: UTF8.self)
        let rows = try await conn.query(table.finishStatement, [id, json])
        return try rows[0].decode(Int.self, at: 0)
    }

    /// The key tables, with their fixed statements (never built from input).
    enum SnapshotTable {
        case rates, availability, reservations

        var finishStatement: String {
            switch self {
            case .rates:
                return """
                    update recon.snapshots set keys = (select count(*) from recon.snapshot_rates where snapshot_id = $1),
                           counts = $2::jsonb where snapshot_id = $1 returning keys
                    """
            case .availability:
                return """
                    update recon.snapshots set keys = (select count(*) from recon.snapshot_availability where snapshot_id = $1),
                           counts = $2::jsonb where snapshot_id = $1 returning keys
                    """
            case .reservations:
                return """
                    update recon.snapshots set keys = (select count(*) from recon.snapshot_reservations where snapshot_id = $1),
                           counts = $2::jsonb where snapshot_id = $1 returning keys
                    """
            }
        }
    }

    /// Marks snapshots as references for the retraining feeds: never pruned.
    static func pin(_ ids: [Int64], on connection: PostgresConnection) async throws {
        for id in ids {
            try await connection.execute(
                "update recon.snapshots set pinned = true, pinned_at = now() where snapshot_id = $1", [id])
        }
    }

    /// Keeps the newest `keep` unpinned snapshots per scope; returns how many were dropped.
    static func prune(keep: Int, on connection: PostgresConnection) async throws -> Int {
        try await connection.query("select recon.prune_snapshots($1::integer)", [keep])[0].decode(Int.self, at: 0)
    }
}
