import Foundation
import PostgresClient
import WarehouseSQL

/// Promotes staged rows into versioned facts by running `sql/transforms/*.sql` in
/// order, then checks the facts with `sql/checks/*.sql`.
///
/// The promotion is one transaction holding a transaction-level advisory lock:
/// a second transform waits, then sees the first one's facts and marks, so two
/// runs can never both create a current row (dbt-core #4661). A crash leaves the
/// whole batch or none of it. The checks run last in the same transaction, so
/// they can read the keys the transforms touched from their temporary tables
/// and look at those alone (`checkAll` looks at every key: the weekly full
/// scan); they only write `ops.dq_results`, so a failing check fails the run
/// but keeps the promoted facts. Checks are timed apart from the promotion;
/// every file's time goes to `ops.transform_steps`.
public struct TransformRunner: Sendable {
    /// A data-quality check's outcome for one run.
    public struct CheckResult: Sendable, Equatable {
        public var name: String
        public var severity: String
        public var failures: Int
        public var sample: String
    }

    /// What a run did.
    public struct Summary: Sendable {
        public var runID: String
        public var fullRefresh: Bool
        /// The checks looked at every key, not only those the run touched.
        public var checkedAll: Bool = false
        public var promoteSeconds: Double
        public var checkSeconds: Double
        /// ops.transform_counts of the run, e.g. `rates.versions_appended`.
        public var counts: [String: Int]
        public var checks: [CheckResult]
        /// What the promotion brought into facts, per stream, source and property (announced on `FactsAnnouncement.channel`).
        public var promoted: [PromotedScope] = []

        /// Checks with severity error that found offending rows: the run exits with status 1.
        public var failedChecks: [CheckResult] { checks.filter { $0.severity == "error" && $0.failures > 0 } }
        public var warnings: [CheckResult] { checks.filter { $0.severity == "warning" && $0.failures > 0 } }
        public var autoRegistered: Int {
            counts.filter { $0.key.hasPrefix("dims.auto_registered.") }.values.reduce(0, +)
        }
        public var exitStatus: ExitStatus { failedChecks.isEmpty ? .success : .failure }

        /// A sample cut to one screen line: codes come from the data, and a 5,000-character
        /// room code would otherwise be printed whole.
        static func abbreviated(_ sample: String, limit: Int = 200) -> String {
            guard sample.count > limit else { return sample }
            return "\(sample.prefix(limit))... (\(sample.count) characters; all of it in ops.dq_results)"
        }

        public var rendered: String {
            var lines = [
                "transform \(runID)\(fullRefresh ? " (full refresh)" : ""): promoted in "
                    + String(format: "%.2f s", promoteSeconds) + ", checked in "
                    + String(format: "%.2f s", checkSeconds) + (checkedAll ? " (every key)" : " (keys touched)")
            ]
            for (metric, value) in counts.sorted(by: { $0.key < $1.key }) {
                lines.append("  \(metric): \(value)")
            }
            if autoRegistered > 0 {
                lines.append(
                    "  flagged: \(autoRegistered) codes were missing from dims and registered automatically; "
                        + "fix: add them to seeds/*.csv and run `ota-ingest seed`")
            }
            for check in warnings {
                lines.append("  warning \(check.name): \(check.failures) rows, e.g. \(Self.abbreviated(check.sample))")
            }
            for check in failedChecks {
                lines.append("  FAILED \(check.name): \(check.failures) rows, e.g. \(Self.abbreviated(check.sample))")
            }
            lines.append(
                "  checks: \(checks.count - failedChecks.count) of \(checks.count) passed"
                    + (failedChecks.isEmpty ? "" : "; see ops.dq_results where run_id = '\(runID)'"))
            return lines.joined(separator: "\n")
        }
    }

    /// The batch tables are temporary; with the default 8 MB of temp buffers a
    /// million-row batch is written out and read back page by page (a quarter of
    /// reading the batch).
    static let tempBuffers = "256MB"

    /// Session settings, applied once per connection: they hold for the session, and
    /// PostgreSQL refuses temp_buffers once the session has touched a temporary table
    /// (an ERROR in the server's log on every later transform of the session). A
    /// connection that used temporary tables before its first transform keeps its
    /// setting, which is slower for big batches and never wrong.
    static func applySessionSettings(_ connection: PostgresConnection) async throws {
        let row = try await connection.query(
            "select current_setting('temp_buffers') = $1, pg_my_temp_schema() <> 0", [tempBuffers]
        ).first
        let applied = try row?.decode(Bool.self, at: 0) ?? false
        let usedTemporaryTables = try row?.decode(Bool.self, at: 1) ?? true
        guard !applied && !usedTemporaryTables else { return }
        _ = try await connection.query("select set_config('temp_buffers', $1, false)", [tempBuffers])
    }

    /// Fixed, never derived from input: "ota_tfrm" as a lock key.
    public static let lockKey: Int64 = 0x6f74_615f_7466_726d

    private let transforms: SQLFileSet
    private let checks: SQLFileSet
    private let fullRefreshSQL: String

    /// Reads the SQL compiled into the binary.
    public init() throws {
        transforms = try SQLFileSet(WarehouseSQL.transforms, folder: "transforms")
        checks = try SQLFileSet(WarehouseSQL.checks, folder: "checks")
        fullRefreshSQL = WarehouseSQL.fullRefresh
    }

    /// The transform files in the order they run.
    public var transformNames: [String] { transforms.files.map(\.name) }

    /// - Parameter checkAll: check every key in facts (`transform --check-all`), not only the keys this run touched.
    public func run(
        _ connection: PostgresConnection, fullRefresh: Bool = false, checkAll: Bool = false, runID: String? = nil
    ) async throws -> Summary {
        // Not a RunScope run: a second transform waits for the first (the promotion's
        // transaction lock) instead of finding it busy, and a night's transform is its step's run.
        let runID = runID ?? RunLedger.newRunId()
        let command = ["transform"] + (fullRefresh ? ["--full-refresh"] : []) + (checkAll ? ["--check-all"] : [])
        let commandText = command.joined(separator: " ")
        try await RunLedger.open(runId: runID, command: commandText, on: connection)
        do {
            // The stay months the new rows need, before the transform's long transaction: a
            // partition created inside it would keep facts.rates (or facts.availability) locked
            // against every reader until it commits. A full refresh empties the facts in its
            // transaction anyway, and creates what it needs there.
            if !fullRefresh { try await StayPartitions.ensure(on: connection) }
            let summary = try await promoteAndCheck(
                connection, fullRefresh: fullRefresh, checkAll: checkAll, runID: runID)
            try await RunLedger.close(
                runId: runID, command: commandText, status: summary.failedChecks.isEmpty ? .succeeded : .failed,
                counts: Self.counts(summary), error: nil, on: connection)
            return summary
        } catch {
            // On a Citus cluster a promotion that failed between its marks still holds the
            // landing fence (a session lock; sql/migrations/0090_landing_fence.sql): let landings go on.
            _ = try? await connection.query("select ops.open_landing_fence()")
            let text = (error as? PostgresError).map { "\($0)" } ?? "\(error)"
            _ = try? await RunLedger.close(
                runId: runID, command: commandText, status: .failed, counts: nil, error: text, on: connection)
            throw error
        }
    }

    /// One micro-batch of continuous promotion: the same files as `run`, without a run of its
    /// own in ops.runs (`runID` is the promoter's, and its counts are this batch's alone), up to
    /// the batch's pinned snapshot. `inside` runs last in the transaction, after the checks.
    func promote(
        _ connection: PostgresConnection, batch: MicroBatch, runID: String,
        inside: @escaping @Sendable (isolated PostgresConnection) async throws -> Void
    ) async throws -> Summary {
        do {
            return try await promoteAndCheck(
                connection, fullRefresh: false, checkAll: false, runID: runID, batch: batch, inside: inside)
        } catch {
            _ = try? await connection.query("select ops.open_landing_fence()")
            throw error
        }
    }

    private func promoteAndCheck(
        _ connection: PostgresConnection, fullRefresh: Bool, checkAll: Bool, runID: String,
        batch: MicroBatch? = nil,
        inside: (@Sendable (isolated PostgresConnection) async throws -> Void)? = nil
    ) async throws -> Summary {
        let transforms = self.transforms.files
        let checks = self.checks.files
        let fullRefreshSQL = self.fullRefreshSQL
        try await Self.applySessionSettings(connection)
        let (promoteSeconds, checkSeconds, promoted) = try await connection.transaction {
            conn -> (Double, Double, [PromotedScope]) in
            let promoteStart = ContinuousClock.now
            _ = try await conn.query("select pg_advisory_xact_lock($1)", [Self.lockKey])
            if let batch {
                try await batch.begin(on: conn, runID: runID)
            }
            _ = try await conn.query("select set_config('ota.run_id', $1, true)", [runID])
            _ = try await conn.query("select set_config('ota.check_all', $1, true)", [checkAll ? "on" : "off"])
            var steps = fullRefresh ? [SQLFileSet.File(name: "full_refresh.sql", sql: fullRefreshSQL)] : []
            steps += transforms
            let progress = TransformProgress(fileCount: steps.count + checks.count)
            defer { progress.end() }
            for (index, step) in steps.enumerated() {
                try await progress.file(step.name, number: index + 1, phase: "promote") {
                    try await Self.timed(step, phase: "promote", runID: runID, on: conn)
                }
            }
            let promoteSeconds = Self.seconds(since: promoteStart)
            let checkStart = ContinuousClock.now
            for (index, check) in checks.enumerated() {
                try await progress.file(check.name, number: steps.count + index + 1, phase: "check") {
                    try await Self.timed(check, phase: "check", runID: runID, on: conn, namePrefix: "checks/")
                }
            }
            let checkSeconds = Self.seconds(since: checkStart)
            let promoted = try await PromotedScope.read(on: conn)
            if let batch {
                try await batch.end(on: conn)
            } else {
                // A transform that commits is the moment to try again what continuous promotion
                // set aside (it cannot have promoted them itself: they lie behind the marks),
                // unless it rebuilt everything, rows set aside included.
                try await conn.execute(
                    fullRefresh
                        ? "update ops.promotion_set_aside set promoted_at = now(), retry_due = false where promoted_at is null"
                        : "update ops.promotion_set_aside set retry_due = true where promoted_at is null")
            }
            try await FactsAnnouncement.announce(
                promoted, horizon: batch?.horizon, on: conn)
            if let inside { try await inside(conn) }
            return (promoteSeconds, checkSeconds, promoted)
        }

        var counts: [String: Int] = [:]
        for row in try await connection.query(
            "select metric, value from ops.transform_counts where run_id = $1", [runID])
        {
            counts[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        let results = try await connection.query(
            "select check_name, severity, failures, sample::text from ops.dq_results where run_id = $1 order by check_name",
            [runID]
        ).map { row in
            CheckResult(
                name: try row.decode(String.self, at: 0), severity: try row.decode(String.self, at: 1),
                failures: try row.decode(Int.self, at: 2), sample: try row.decode(String.self, at: 3))
        }
        return Summary(
            runID: runID, fullRefresh: fullRefresh, checkedAll: checkAll, promoteSeconds: promoteSeconds,
            checkSeconds: checkSeconds, counts: counts, checks: results, promoted: promoted)
    }

    private static func timed(
        _ file: SQLFileSet.File, phase: String, runID: String, on conn: isolated PostgresConnection,
        namePrefix: String = ""
    ) async throws {
        let start = ContinuousClock.now
        let startedAt = WallClock.systemNow()
        do {
            try await conn.executeScript(file.sql)
        } catch let error as PostgresError {
            throw TransformError(file: namePrefix + file.name, error: error)
        }
        try await conn.execute(
            """
            insert into ops.transform_steps (run_id, step, phase, started_at, duration_ms) values ($1, $2, $3, $4, $5)
            on conflict (run_id, step) do update set started_at = excluded.started_at, duration_ms = excluded.duration_ms
            """,
            [runID, namePrefix + file.name, phase, startedAt, seconds(since: start) * 1000])
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func counts(_ summary: Summary) -> [String: Int] {
        var counts = summary.counts
        counts["checks_failed"] = summary.failedChecks.count
        counts["promote_ms"] = Int(summary.promoteSeconds * 1000)
        counts["check_ms"] = Int(summary.checkSeconds * 1000)
        return counts
    }
}

/// A transform or check file failed. The checks run in the promotion's transaction
/// (they read the keys it touched from its temporary tables), so either failure rolls
/// the whole promotion back: facts are as before the run, and a rerun promotes the
/// same batch. (A check that runs and finds offending rows is not a failure here: it
/// fails the run through `ops.dq_results` and keeps the facts.)
public struct TransformError: UserFacingError {
    public var file: String
    public var error: PostgresError

    public var exitStatus: ExitStatus { .failure }
    public var description: String {
        let cause = "\(error.message) (SQLSTATE \(error.sqlState.rawValue))"
        return "transform: \(file) failed and the whole batch was rolled back: \(cause); "
            + "fix: correct the data or the SQL named (or give the server what it needs, e.g. temp_file_limit, "
            + "statement_timeout), then run transform again"
    }
}
