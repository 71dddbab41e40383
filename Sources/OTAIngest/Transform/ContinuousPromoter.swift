import Foundation
import PostgresClient
import Synchronization

/// Continuous promotion, one micro-batch per `step()`: whatever landed since the last
/// promotion goes into facts through the transforms' incremental path (the same
/// sql/transforms and sql/checks as `transform`, over the keys the batch touched), under the
/// transform's advisory lock, so a nightly transform and any other promoter wait for it and
/// it waits for them.
///
/// A batch reads staging up to a snapshot taken before it starts; a batch that fails is
/// tried again over exactly those rows (the snapshot stays pinned; what landed meanwhile
/// waits). After `attemptsBeforeSettingAside` failures its landing transactions are set
/// aside in ops.promotion_set_aside and the marks move past them, so everything landed
/// later keeps flowing. Several landing transactions set aside together are tried again in
/// halves at once, halving again whatever half fails, so only the ones that fail alone stay
/// aside (a bad row must not hold back half a second of other pushes until the night). A
/// transform that succeeds makes them due, and the next step tries them again in a batch of
/// their own. Failures to reach the server are not the rows'
/// fault and never count.
///
/// Uses one connection of its own; an actor, so a step can be cancelled from another task
/// (serve's graceful shutdown) while it waits for the lock or runs.
public actor ContinuousPromoter {
    /// What one step did.
    public enum Outcome: Sendable {
        /// Nothing landed since the last promotion, and nothing set aside is due.
        case idle
        case promoted(Batch)
        /// The batch failed; it is tried again over the same rows (`attempt` of 3 counted).
        case failed(error: String, attempt: Int)
        /// The batch failed for the third time: `rows` staged rows set aside.
        case setAside(rows: Int, error: String)
        /// The server could not be reached or the session broke; nothing counted.
        case unavailable(error: String)
        /// A transform moved the marks while the batch waited for the lock: taken again at once.
        case overtaken
    }

    /// A promoted micro-batch.
    public struct Batch: Sendable {
        public var retriedSetAside: Bool
        public var versions: Int
        public var scopes: [PromotedScope]
        public var seconds: Double
        /// Time spent waiting for the transform lock (a nightly's transform holding it).
        public var lockWaitSeconds: Double
        /// Per booking or observation promoted: landing (the push answered) to the fact's commit, seconds.
        public var answeredToFact: [Double]
        /// Per booking or observation promoted: OTA event time to the fact's commit, seconds.
        public var eventToFact: [Double]
        public var failedChecks: [TransformRunner.CheckResult]
    }

    /// What the batch's transaction measured, handed out of it.
    private final class LatencySamples: Sendable {
        let value = Mutex<(lockWait: Double, answered: [Double], event: [Double])>((0, [], []))
    }

    public static let attemptsBeforeSettingAside = 3
    /// At most this many latency samples per batch (a first load would have millions).
    static let latencySamples = 20_000

    let databaseURL: String
    let runID: String
    let runner: TransformRunner
    private var connection: PostgresConnection?
    private var pinned: MicroBatch?
    private var failures = 0
    /// The last batch taken tried half of a failed batch again: new rows go first next, so a
    /// split never holds back what keeps landing.
    private var triedAHalfLast = false

    /// - Parameter runID: the promoter's id in ops.transform_counts, ops.transform_steps and
    ///   ops.dq_results (the latest batch's figures); no run of its own in ops.runs.
    public init(databaseURL: String, runID: String) throws {
        self.databaseURL = databaseURL
        self.runID = runID
        runner = try TransformRunner()
    }

    public func close() async {
        if let connection { await connection.close() }
        connection = nil
    }

    /// Rows set aside now (promoted_at null), for /metrics and `status`.
    public func rowsSetAside() async -> Int? {
        guard let connection = try? await session() else { return nil }
        return try? await connection.query(
            "select coalesce(sum(row_count), 0)::bigint from ops.promotion_set_aside where promoted_at is null"
        ).first?.decode(Int.self, at: 0)
    }

    private func session() async throws -> PostgresConnection {
        if let connection, !(await connection.isClosed) { return connection }
        if let connection { await connection.close() }
        connection = nil
        let fresh = try await PostgresConnection.connect(databaseURL, applicationName: "ota-ingest promote")
        connection = fresh
        return fresh
    }

    /// Promotes one micro-batch, or finds nothing to do.
    public func step() async -> Outcome {
        let connection: PostgresConnection
        do {
            connection = try await session()
            if pinned == nil {
                guard let batch = try await Self.take(on: connection, newRowsFirst: triedAHalfLast) else {
                    return .idle
                }
                pinned = batch.batch
                triedAHalfLast = batch.isAHalf
                try await StayPartitions.ensure(on: connection)
            }
        } catch {
            await close()
            return .unavailable(error: "\(error)")
        }
        guard let batch = pinned else { return .idle }
        let samples = LatencySamples()
        let start = ContinuousClock.now
        do {
            let summary = try await runner.promote(connection, batch: batch, runID: runID) { conn in
                let measured = try await Self.latencies(on: conn)
                samples.value.withLock { $0 = measured }
            }
            pinned = nil
            failures = 0
            let measured = samples.value.withLock { $0 }
            return .promoted(
                Batch(
                    retriedSetAside: batch.reads == .setAside,
                    versions: summary.promoted.reduce(0) { $0 + $1.versions }, scopes: summary.promoted,
                    seconds: TransformRunner.seconds(since: start), lockWaitSeconds: measured.lockWait,
                    answeredToFact: measured.answered, eventToFact: measured.event,
                    failedChecks: summary.failedChecks))
        } catch is MicroBatch.MarksMoved {
            pinned = nil
            failures = 0
            return .overtaken
        } catch let error as TransformError where Self.isTheRows(error.error) {
            failures += 1
            guard failures >= Self.attemptsBeforeSettingAside else {
                return .failed(error: error.description, attempt: failures)
            }
            do {
                let rows = try await setAside(batch, error: error, on: connection)
                pinned = nil
                failures = 0
                return .setAside(rows: rows, error: error.description)
            } catch is MicroBatch.MarksMoved {
                pinned = nil
                failures = 0
                return .overtaken
            } catch {
                await close()
                return .unavailable(error: "\(error)")
            }
        } catch {
            await close()
            return .unavailable(error: "\(error)")
        }
    }

    /// Whether the server refused the batch's data or SQL (counted towards setting rows
    /// aside), rather than the session breaking, an operator cancelling or a deadlock.
    static func isTheRows(_ error: PostgresError) -> Bool {
        let state = error.sqlState.rawValue
        return error.kind == .server && !state.hasPrefix("08") && !state.hasPrefix("57") && !state.hasPrefix("40")
            && !state.hasPrefix("53")
    }

    /// The next batch: rows set aside that are due again (on their own, so a row that fails
    /// again takes nothing else with it); else half of a failed batch awaiting a split, or
    /// whatever landed after the marks, taking turns while both wait.
    private static func take(on connection: PostgresConnection, newRowsFirst: Bool) async throws -> (
        batch: MicroBatch, isAHalf: Bool
    )? {
        // One statement, one snapshot: the marks, the snapshot the batch reads up to, and whether
        // anything lies between them. Each exists() is a range scan of a landed_xid index.
        let pending = StagedStreams.all.map { stream, table in
            "exists (select 1 from \(table) o where \(StagedStreams.landedSinceMark(stream)))"
        }.joined(separator: "\n or ")
        guard
            let row = try await connection.query(
                """
                select pg_current_snapshot()::text as upto, clock_timestamp() as taken_at, (\(MicroBatch.marksQuery)) as marks,
                       exists (select 1 from ops.promotion_set_aside where retry_due and promoted_at is null) as retry,
                       exists (select 1 from ops.promotion_set_aside where split_group is not null and promoted_at is null) as split,
                       \(pending) as pending
                """
            ).first
        else { return nil }
        let marks: String = try row.decode(column: "marks")
        let horizon: Date = try row.decode(column: "taken_at")
        let landed: Bool = try row.decode(column: "pending")
        if try row.decode(Bool.self, column: "retry") {
            return (MicroBatch(reads: .setAside, marks: marks, horizon: horizon), false)
        }
        if try row.decode(Bool.self, column: "split"), !(landed && newRowsFirst),
            try await takeHalfOfAGroup(on: connection)
        {
            return (MicroBatch(reads: .setAside, marks: marks, horizon: horizon), true)
        }
        guard landed else { return nil }
        return (
            MicroBatch(reads: .upto(snapshot: try row.decode(column: "upto")), marks: marks, horizon: horizon), false
        )
    }

    /// Inside the batch's transaction, after its checks: how long it waited for the lock, and
    /// per booking or observation the time from landing and from the OTA's event to now.
    private static func latencies(on connection: isolated PostgresConnection) async throws -> (
        lockWait: Double, answered: [Double], event: [Double]
    ) {
        let lockWait =
            try await connection.query(
                "select extract(epoch from coalesce(nullif(current_setting('ota.lock_taken_at', true), '')::timestamptz, now()) - now())::float8"
            ).first?.decode(Double.self, at: 0) ?? 0
        var answered: [Double] = []
        var event: [Double] = []
        for row in try await connection.query(
            """
            select extract(epoch from clock_timestamp() - loaded_at)::float8, extract(epoch from clock_timestamp() - event_at)::float8
            from (select last_loaded_at as loaded_at, last_ota_time as event_at from reservation_batch
                  union all select loaded_at, valid_from from availability_batch
                  union all select loaded_at, valid_from from rate_batch) promoted_rows
            limit $1
            """, [latencySamples])
        {
            answered.append(try row.decode(Double.self, at: 0))
            if let seconds = try row.decode(Double?.self, at: 1) { event.append(seconds) }
        }
        return (lockWait, answered, event)
    }

    /// Sets the failing batch's rows aside, by landing transaction, and moves the marks past
    /// them (a batch of rows set aside earlier just goes back to waiting for a transform).
    private func setAside(_ batch: MicroBatch, error: TransformError, on connection: PostgresConnection) async throws
        -> Int
    {
        let attempts = Self.attemptsBeforeSettingAside
        let text = error.description
        return try await connection.transaction { conn in
            _ = try await conn.query("select pg_advisory_xact_lock($1)", [TransformRunner.lockKey])
            let marks = try await conn.query(MicroBatch.marksQuery).first?.decode(String.self, at: 0)
            guard marks == batch.marks else { throw MicroBatch.MarksMoved() }
            switch batch.reads {
            case .setAside:
                let rows =
                    try await conn.query(
                        """
                        with again as (
                            update ops.promotion_set_aside
                            set retry_due = false, failures = failures + $1, error = $2, set_aside_at = now()
                            where retry_due and promoted_at is null
                            returning row_count)
                        select coalesce(sum(row_count), 0)::bigint from again
                        """, [attempts, text]
                    ).first?.decode(Int.self, at: 0) ?? 0
                try await Self.groupForSplitting(on: conn)
                return rows
            case .upto(let snapshot):
                var rows = 0
                for (stream, table) in StagedStreams.all {
                    rows +=
                        try await conn.query(
                            """
                            with mark as (select seen_snapshot from ops.transform_state where stream = $1),
                            aside as (
                                insert into ops.promotion_set_aside as a (stream, landed_xid, row_count, failures, error)
                                select $1, o.landed_xid, count(*), $3, $4
                                from \(table) o
                                where o.landed_xid >= (select pg_snapshot_xmin(seen_snapshot) from mark)
                                  and not pg_visible_in_snapshot(o.landed_xid, (select seen_snapshot from mark))
                                  and pg_visible_in_snapshot(o.landed_xid, $2::pg_snapshot)
                                group by o.landed_xid
                                on conflict (stream, landed_xid) do update
                                set failures = a.failures + excluded.failures, error = excluded.error,
                                    set_aside_at = now(), retry_due = false, promoted_at = null
                                returning row_count)
                            select coalesce(sum(row_count), 0)::bigint from aside
                            """, [stream, snapshot, attempts, text]
                        ).first?.decode(Int.self, at: 0) ?? 0
                }
                _ = try await conn.execute(
                    "update ops.transform_state set seen_snapshot = $1::pg_snapshot, promoted_at = now()", [snapshot])
                try await Self.groupForSplitting(on: conn)
                return rows
            }
        }
    }

    /// The landing transactions just set aside (this transaction's set_aside_at), if there are
    /// several, become a group to try again in halves; a lone one stays set aside.
    private static func groupForSplitting(on connection: isolated PostgresConnection) async throws {
        try await connection.execute(
            """
            with these as (select landed_xid from ops.promotion_set_aside where set_aside_at = now() and promoted_at is null)
            update ops.promotion_set_aside
            set split_group = case when (select count(distinct landed_xid) from these) > 1
                                   then (select coalesce(max(split_group), 0) + 1 from ops.promotion_set_aside) end
            where set_aside_at = now() and promoted_at is null
            """)
    }

    /// Makes the lower half (by landing transaction) of the newest group awaiting a split due
    /// for a try of its own; false when no group awaits one.
    private static func takeHalfOfAGroup(on connection: PostgresConnection) async throws -> Bool {
        try await connection.transaction { conn in
            try await conn.query(
                """
                with waiting as (select landed_xid, split_group from ops.promotion_set_aside
                                 where split_group is not null and promoted_at is null and not retry_due),
                newest as (select distinct landed_xid from waiting where split_group = (select max(split_group) from waiting)),
                half as (select landed_xid from newest order by landed_xid
                         limit (select (count(*) + 1) / 2 from newest)),
                due as (update ops.promotion_set_aside a set retry_due = true, split_group = null
                        from half
                        where a.landed_xid = half.landed_xid and a.promoted_at is null
                          and a.split_group = (select max(split_group) from waiting)
                        returning 1)
                select count(*)::bigint from due
                """
            ).first?.decode(Int.self, at: 0) ?? 0 > 0
        }
    }
}
