import Foundation
import PostgresClient

/// What the server itself says a session is doing (pg_stat_activity), so a test waits for a
/// real condition (a statement running, a lock awaited) instead of sleeping and hoping.
public enum ServerActivity {
    /// Evaluates `condition` every 5 ms until it holds or `timeout` passes; returns whether it held.
    /// The timeout only bounds a broken build's wait: a passing test returns as soon as it holds.
    public static func poll(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws
        -> Bool
    {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// True when backend `pid` is running a statement (state active) and waiting on `waitEvent`
    /// (pg_stat_activity.wait_event, e.g. `advisory` for an advisory lock, `PgSleep` inside pg_sleep).
    public static func isWaiting(_ pid: Int32, on waitEvent: String, observer: PostgresConnection) async throws
        -> Bool
    {
        try await observer.query(
            "select 1 from pg_stat_activity where pid = $1 and state = 'active' and wait_event = $2",
            [pid, waitEvent]
        ).count == 1
    }

    /// Waits until backend `pid` waits on `waitEvent`; returns false if it never did within `timeout`.
    public static func waitUntil(
        _ pid: Int32, waitsOn waitEvent: String, observer: PostgresConnection, timeout: Duration = .seconds(60)
    ) async throws -> Bool {
        try await poll(timeout: timeout) { try await isWaiting(pid, on: waitEvent, observer: observer) }
    }
}
