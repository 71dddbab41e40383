import Foundation
import PostgresClient

/// Minimum intervals between calls to an endpoint per property, remembered in
/// ops.call_log across runs (the dialect: pending list at most every 5 minutes,
/// feeds a few times a day; misuse can get an account banned).
public enum CallLog {
    /// When the endpoint may next be called, or nil if it may be called now.
    public static func notBefore(
        source: String, property: String, endpoint: String, interval: Duration, now: Date,
        on connection: isolated PostgresConnection
    ) async throws -> Date? {
        guard interval > .zero else { return nil }
        let rows = try await connection.query(
            "select last_called_at from ops.call_log where source = $1 and property_code = $2 and endpoint = $3",
            [source, property, endpoint])
        guard let last = try rows.first?.decode(Date.self, at: 0) else { return nil }
        let next = last.addingTimeInterval(interval.seconds)
        return next > now ? next : nil
    }

    /// Records a call before it is made, so a crash mid-call still counts it.
    public static func record(
        source: String, property: String, endpoint: String, at now: Date, on connection: isolated PostgresConnection
    ) async throws {
        try await connection.execute(
            """
            insert into ops.call_log (source, property_code, endpoint, last_called_at) values ($1, $2, $3, $4)
            on conflict (source, property_code, endpoint) do update set last_called_at = excluded.last_called_at
            """, [source, property, endpoint, now])
    }
}
