import Foundation
import PostgresClient

/// One run of a command, as recorded in ops.runs.
public struct Run: Sendable {
    public var id: String
    public var command: String
    /// True when this process took over a run that died or failed, reusing its id
    /// so its landed batches are not landed again.
    public var resumed: Bool
}

/// How a run ended (or that it has not yet), as ops.runs.status records it.
public enum RunStatus: String, Sendable, CaseIterable {
    case running, succeeded, failed
    /// Finished, but some records went to ops.dead_letters.
    case deadLetters = "dead_letters"
}

/// Starts, resumes and finishes runs in ops.runs: the table's only writer. Commands
/// start their runs through `RunScope`; the transform's and the night's steps, which
/// are runs without a lock of their own, are opened and closed here too.
///
/// One run per command at a time: a run holds a session advisory lock for its
/// command while it works. A run that died (lock free, never finished) or
/// failed recently is resumed under its own id; after `resumeWindow` a new run
/// observes afresh.
public enum RunLedger {
    public enum Start: Sendable {
        case started(Run)
        /// Another live process is running this command.
        case busy(runId: String?)
    }

    static func lockKey(_ command: String) -> Int64 {
        PostgresConnection.advisoryLockKey("ota-ingest run: " + command)
    }

    /// Takes the command's lock and starts or resumes its run. The lock is held by
    /// `connection` until `finish` (or until the process dies).
    static func start(
        command: String, on connection: PostgresConnection, resumeWindow: Duration = .seconds(12 * 3600),
        forceNew: Bool = false
    ) async throws -> Start {
        guard try await connection.tryAdvisoryLock(lockKey(command)) else {
            let running = try await connection.query(
                "select run_id from ops.runs where command = $1 and status = 'running' order by started_at desc limit 1",
                [command])
            return .busy(runId: try running.first?.decode(String.self, at: 0))
        }
        if !forceNew {
            let previous = try await connection.query(
                """
                select run_id from ops.runs
                where command = $1 and status in ('running', 'failed')
                  and started_at > now() - make_interval(secs => $2)
                order by started_at desc limit 1
                """, [command, resumeWindow.seconds])
            if let id = try previous.first?.decode(String.self, at: 0) {
                try await connection.execute(
                    "update ops.runs set status = 'running', finished_at = null, error = null where run_id = $1", [id])
                return .started(Run(id: id, command: command, resumed: true))
            }
        }
        let id = newRunId(at: WallClock.systemNow())
        try await connection.execute("insert into ops.runs (run_id, command) values ($1, $2)", [id, command])
        return .started(Run(id: id, command: command, resumed: false))
    }

    /// Records how the run ended and releases the command's lock.
    static func finish(
        _ run: Run, status: RunStatus, counts: [String: Int], error: String?, on connection: PostgresConnection
    ) async throws {
        try await connection.execute(
            """
            update ops.runs set status = $2, finished_at = now(), error = $3,
                   counts = $4::jsonb
            where run_id = $1
            """, [run.id, status.rawValue, error, try countsJSON(counts)])
        _ = try await connection.advisoryUnlock(lockKey(run.command))
    }

    /// Opens (or reopens, after a kill) a run that holds no lock of its own: a transform
    /// (serialised by its own transaction lock) or one step of a night (`night` and `position`).
    public static func open(
        runId: String, command: String, night: String? = nil, position: Int? = nil, on connection: PostgresConnection
    ) async throws {
        try await connection.execute(
            """
            insert into ops.runs (run_id, command, night_run_id, step_position) values ($1, $2, $3, $4)
            on conflict (run_id) do update set status = 'running', started_at = now(), finished_at = null, error = null,
                step_position = coalesce(excluded.step_position, ops.runs.step_position)
            """, [runId, command, night, position])
    }

    /// Closes a run opened with `open`, or records at once one that finished without
    /// being opened (a night's step skipped or taken from an earlier attempt).
    /// nil `counts` keeps those already recorded; `attention` is what a night's step
    /// needs a person to look at (ops.runs.attention), `kind` ordering the items.
    public static func close(
        runId: String, command: String, status: RunStatus, counts: [String: Int]?,
        attention: [(kind: Int, text: String)] = [], error: String?, night: String? = nil, position: Int? = nil,
        on connection: PostgresConnection
    ) async throws {
        let json = try counts.map(countsJSON)
        let items = attention.map { ["kind": $0.kind, "text": $0.text] as [String: Any] }
        let attentionJSON = String(
            decoding: try JSONSerialization.data(withJSONObject: items, options: [.sortedKeys]), as: UTF8.self)
        try await connection.execute(
            """
            insert into ops.runs
                (run_id, command, night_run_id, status, finished_at, counts, error, step_position, attention)
            values ($1, $2, $3, $4, now(), coalesce($5::jsonb, '{}'), $6, $7, $8::jsonb)
            on conflict (run_id) do update set status = excluded.status, finished_at = now(),
                counts = case when $5::jsonb is null then ops.runs.counts else excluded.counts end,
                error = excluded.error, step_position = coalesce(excluded.step_position, ops.runs.step_position),
                attention = excluded.attention
            """, [runId, command, night, status.rawValue, json, error, position, attentionJSON])
    }

    static func countsJSON(_ counts: [String: Int]) throws -> String {
        try String(decoding: JSONSerialization.data(withJSONObject: counts, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Sortable by start time, unique without coordination: UTC time plus random hex.
    public static func newRunId(at now: Date = WallClock.systemNow()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: now) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }
}
