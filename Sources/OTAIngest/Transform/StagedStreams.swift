/// The staging tables that promotion reads, one per stream, and which of their rows a
/// stream's promotion has not seen yet. Continuous promotion and the transform share them.
enum StagedStreams {
    /// Each stream and its staging table.
    static let all = [
        ("reservations", "staging.reservation_events"), ("availability", "staging.availability_observations"),
        ("rates", "staging.rate_observations"),
    ]

    /// The condition on a staging row aliased `o` that the promotion of `stream` has not
    /// seen it: landed after the stream's mark (a range scan of the landed_xid index). The
    /// mark is read by scalar subqueries, which Citus runs on the coordinator.
    static func landedSinceMark(_ stream: String) -> String {
        let mark = "(select seen_snapshot from ops.transform_state where stream = '\(stream)')"
        return "o.landed_xid >= pg_snapshot_xmin(\(mark)) and not pg_visible_in_snapshot(o.landed_xid, \(mark))"
    }
}
