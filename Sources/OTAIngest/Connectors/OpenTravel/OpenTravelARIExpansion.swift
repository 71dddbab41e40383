import PostgresClient
import WarehouseSQL

/// Expands stored ARI messages into observations with the SQL of `sql/ari/`, a batch of
/// waiting messages of one hotel and source per transaction (`00_batch.sql` takes it; each
/// file after it runs once for the whole batch): their observations, the codes they
/// register, their `expanded_at` and the states they write commit together, so a crash
/// loses nothing (the messages still wait) and running them again doubles nothing (the
/// observations' key is message, cell, field).
public enum OpenTravelARIExpansion {
    /// The file that takes the batch into the temporary table `ari_batch`.
    static let batchFile = "00_batch.sql"

    /// Expands the next batch: the oldest waiting message no other session holds and the
    /// waiting messages of its hotel and source after it; returns how many messages (0 when
    /// none waits).
    @discardableResult
    public static func expandNext(on connection: PostgresConnection) async throws -> Int {
        try await connection.transaction { tx in
            // Nothing is acknowledged on this commit, so it need not wait for the WAL flush: a
            // crash that loses it loses the observations and `expanded_at` together, and the
            // messages, stored durably before their answer, are expanded again.
            _ = try await tx.execute("set local synchronous_commit = off")
            // The planner cannot know how many nights a range holds, so it guesses high and
            // JIT-compiles: 100 ms or more for a message of a few cells, which takes 5 ms without.
            _ = try await tx.execute("set local jit = off")
            var messages = 0
            for file in WarehouseSQL.files(in: "ari") {
                try await tx.executeScript(file.sql)
                if file.name == batchFile {
                    messages = try await tx.query("select count(*)::int from ari_batch")[0].decode(Int.self, at: 0)
                    if messages == 0 { return 0 }
                }
            }
            return messages
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
        while case let expanded = try await expandNext(on: connection), expanded > 0 { count += expanded }
        return count
    }
}
