import PostgresClient

/// The stay-month partitions of facts.rates and facts.availability that the rows landed
/// since the marks need.
enum StayPartitions {
    /// Creates them, in a transaction of their own before a micro-batch or the nightly's
    /// transform. Created inside that transaction, a partition would hold its parent
    /// (facts.rates or facts.availability) under an exclusive lock until it commits, stalling
    /// every reader of that table for as long as a large batch runs. The batch's own call
    /// (in sql/transforms/) then finds them all there.
    static func ensure(on connection: PostgresConnection) async throws {
        func pending(_ stream: String, _ table: String) -> String {
            "select min(o.stay_date) as first_day, max(o.stay_date) as last_day from \(table) o where \(StagedStreams.landedSinceMark(stream))"
        }
        let sql = """
            select facts.ensure_stay_partitions(min(first_day), max(last_day))
            from (\(StagedStreams.all.filter { $0.0 != "reservations" }.map(pending).joined(separator: " union all "))) pending
            """
        // Outside the transform lock, a promoter and a transform (or a killed transform's
        // session still ending) may create the same month at once: the one that loses finds the
        // table there when its CREATE TABLE runs (42P07, or 23505 on the catalog's own unique
        // index). Asked again, the function sees the partition and creates nothing.
        for attempt in 1...3 {
            do {
                _ = try await connection.query(sql)
                return
            } catch let error as PostgresError
                where attempt < 3 && [.duplicateTable, .uniqueViolation].contains(error.sqlState)
            {
                continue
            }
        }
    }
}
