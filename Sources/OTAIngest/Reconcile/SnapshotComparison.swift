import Foundation
import PostgresClient
import WarehouseSQL

/// Compares one snapshot with the facts by running `sql/reconcile/*.sql` in
/// name order in one transaction, and repairs it there when asked: the
/// observation repairs land in their batch with its ledger entry in that same
/// transaction, so a rerun after a kill lands nothing twice.
struct SnapshotComparison: Sendable {
    struct Result: Sendable {
        var metrics: [String: Double]
        var breached: Bool
        /// Observation keys landed for repair in this comparison.
        var repairedKeys: Int
        /// Bookings to repair through the API (missing or mismatched), with their kind.
        var bookingsToRepair: [(id: String, kind: String)]
    }

    private let files: SQLFileSet

    init() throws {
        files = try SQLFileSet(WarehouseSQL.reconcile, folder: "reconcile")
    }

    func compare(
        snapshotID: Int64, stream: String, threshold: Double?, repair: Bool, afterRepair: Bool,
        batch: BatchLedger.Key, on connection: PostgresConnection
    ) async throws -> Result {
        let files = self.files.files
        return try await connection.transaction { conn in
            var repairing = repair && stream != "reservations"
            if repairing, try await BatchLedger.isLanded(batch, on: conn) { repairing = false }
            if repairing {
                _ = try await conn.query(
                    "select staging.ensure_load_partitions((now() at time zone 'UTC')::date)")
            }
            for (name, value) in [
                ("ota.run_id", batch.runId), ("recon.snapshot_id", String(snapshotID)),
                ("recon.threshold", threshold.map { String($0) } ?? ""),
                ("recon.after_repair", afterRepair ? "on" : "off"),
                ("recon.repair", repairing ? "on" : "off"), ("recon.batch_id", batch.batchId),
            ] {
                _ = try await conn.query("select set_config($1, $2, true)", [name, value])
            }
            for file in files {
                do {
                    try await conn.executeScript(file.sql)
                } catch let error as PostgresError {
                    throw ReconcileError(
                        "sql/reconcile/\(file.name) failed for snapshot \(snapshotID): \(error.message) (SQLSTATE \(error.sqlState.rawValue)); "
                            + "fix: correct the SQL or the data named; nothing of this comparison was kept")
                }
            }
            // The SQL decides what breaches (sql/reconcile/10_scope.sql); this reads its verdict.
            var metrics: [String: Double] = [:]
            var breached = false
            for row in try await conn.query("select metric, value::float8, breached from recon_results") {
                if let value = try row.decode(Double?.self, at: 1) {
                    metrics[try row.decode(String.self, at: 0)] = value
                }
                if try row.decode(Bool.self, at: 2) { breached = true }
            }
            var repaired = 0
            if repairing && breached {
                // What the repair files landed: the OTA's values and the tombstones. The table
                // name is one of two fixed names, never input.
                let table = stream == "availability" ? "availability_observations" : "rate_observations"
                repaired = try await conn.query(
                    "select count(*)::integer from staging.\(table) where batch_id = $1 and load_date = (now() at time zone 'UTC')::date",
                    [batch.batchId]
                )[0].decode(Int.self, at: 0)
                try await BatchLedger.record(batch, rows: repaired, duplicates: 0, deadLetters: 0, on: conn)
            }
            var bookings: [(id: String, kind: String)] = []
            if repair && breached && stream == "reservations" {
                bookings = try await conn.query(
                    "select confirmation_id, kind from recon_reservation_diffs where kind <> 'extra' order by 1"
                ).map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
            }
            return Result(metrics: metrics, breached: breached, repairedKeys: repaired, bookingsToRepair: bookings)
        }
    }
}

/// Reconciliation could not run for the reason named.
public struct ReconcileError: UserFacingError {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var exitStatus: ExitStatus { .failure }
    public var description: String { "reconcile: " + message }
}
