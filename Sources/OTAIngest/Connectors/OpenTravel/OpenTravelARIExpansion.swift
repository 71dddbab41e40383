import PostgresClient
import WarehouseSQL

/// Expands stored ARI messages into observations with the SQL of `sql/ari/`, one
/// message per transaction: its observations, the codes it registers and its
/// `expanded_at` commit together, so a crash loses nothing (the message still waits)
/// and running it again doubles nothing (the observations' key is message, cell, field).
public enum OpenTravelARIExpansion {
    /// Expands the oldest message still waiting; false when none waits.
    public static func expandNext(on connection: PostgresConnection) async throws -> Bool {
        try await connection.transaction { tx in
            // Nothing is acknowledged on this commit, so it need not wait for the WAL flush: a
            // crash that loses it loses the observations and `expanded_at` together, and the
            // message, stored durably before its answer, is expanded again.
            _ = try await tx.execute("set local synchronous_commit = off")
            // The oldest waiting message nobody else is expanding: two expanders (or a restart
            // racing a survivor) never both take one, and neither waits on the other.
            let waiting = try await tx.query(
                """
                select property_code, source, message_key from staging.ari_messages
                where expanded_at is null order by arrival limit 1
                for update skip locked
                """)
            guard let row = waiting.first else { return false }
            let key: [String] = [
                try row.decode(column: "property_code"), try row.decode(column: "source"),
                try row.decode(column: "message_key"),
            ]
            _ = try await tx.query(
                """
                select set_config('ota.ari_property', $1, true), set_config('ota.ari_source', $2, true),
                       set_config('ota.ari_message', $3, true)
                """, key)
            // The planner cannot know how many nights a range holds, so it guesses high and
            // JIT-compiles: 100 ms or more for a message of a few cells, which takes 5 ms without.
            _ = try await tx.execute("set local jit = off")
            for file in WarehouseSQL.files(in: "ari") { try await tx.executeScript(file.sql) }
            return true
        }
    }

    /// Whether any message waits, taken by another expander or not (one that holds a message
    /// may be a `serve` that was killed and whose session the server has not yet ended).
    public static func anyWaiting(on connection: PostgresConnection) async throws -> Bool {
        try await !connection.query("select 1 from staging.ari_messages where expanded_at is null limit 1").isEmpty
    }

    /// Expands every waiting message; returns how many.
    @discardableResult
    public static func expandAll(on connection: PostgresConnection) async throws -> Int {
        var count = 0
        while try await expandNext(on: connection) { count += 1 }
        return count
    }
}
