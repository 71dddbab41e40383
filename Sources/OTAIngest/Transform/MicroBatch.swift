import Foundation
import PostgresClient

/// One micro-batch of continuous promotion, as the transforms see it: which staged rows it
/// reads, and the marks it expects to find (a transform that ran in between moved them, and
/// the batch is taken again from where that transform stopped).
struct MicroBatch: Sendable {
    enum Reads: Sendable, Equatable {
        /// The rows landed after the marks, up to this snapshot (pg_snapshot text): pinned, so
        /// a retry reads the same rows however many landed meanwhile.
        case upto(snapshot: String)
        /// No new rows: only the rows set aside that a successful transform made due again.
        case setAside
    }

    var reads: Reads
    /// ops.transform_state's marks when the batch was taken (`MicroBatch.marksQuery`).
    var marks: String
    /// When `upto` was taken: every row landed (and so every push answered) before it is in
    /// facts once this batch commits.
    var horizon: Date

    /// The marks as one text: compared, never parsed.
    static let marksQuery =
        "select string_agg(stream || '=' || seen_snapshot::text, ',' order by stream) from ops.transform_state"

    /// The promotion's transaction holds the transform lock; set what the batch files read.
    func begin(on connection: isolated PostgresConnection, runID: String) async throws {
        let now = try await connection.query(Self.marksQuery).first?.decode(String.self, at: 0)
        guard now == marks else { throw MarksMoved() }
        let upto: String
        switch reads {
        case .upto(let snapshot): upto = snapshot
        case .setAside: upto = "none"
        }
        // (The planner's random_page_cost is the transforms' own: 10_reservation_batch.sql.)
        _ = try await connection.query(
            """
            select set_config('ota.promote_upto', $1, true), set_config('ota.retry_set_aside', $2, true),
                   set_config('ota.lock_taken_at', clock_timestamp()::text, true)
            """,
            [upto, reads == .setAside ? "on" : "off"])
        // The promoter keeps one run id; its counts are the latest batch's.
        try await connection.execute("delete from ops.transform_counts where run_id = $1", [runID])
    }

    /// The batch promoted: rows it tried again are no longer set aside.
    func end(on connection: isolated PostgresConnection) async throws {
        guard reads == .setAside else { return }
        try await connection.execute(
            "update ops.promotion_set_aside set promoted_at = now(), retry_due = false where retry_due and promoted_at is null"
        )
    }

    /// A transform moved the marks since the batch was taken: take it again.
    struct MarksMoved: Error {}
}
