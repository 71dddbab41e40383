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

/// Starts, resumes and finishes runs in ops.runs.
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
    public static func start(
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
    public static func finish(
        _ run: Run, status: String, counts: [String: Int], error: String?, on connection: PostgresConnection
    ) async throws {
        let json = try String(
            decoding: JSONSerialization.data(withJSONObject: counts, options: [.sortedKeys]), as: UTF8.self)
        try await connection.execute(
            """
            update ops.runs set status = $2, finished_at = now(), error = $3,
                   counts = $4::jsonb
            where run_id = $1
            """, [run.id, status, error, json])
        _ = try await connection.advisoryUnlock(lockKey(run.command))
    }

    /// Sortable by start time, unique without coordination: UTC time plus random hex.
    static func newRunId(at now: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: now) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }
}
