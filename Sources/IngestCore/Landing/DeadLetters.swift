import Foundation
import PostgresClient

/// A record refused at the boundary or by PostgreSQL, bound for ops.dead_letters.
public struct DeadLetter: Sendable {
    public var stream: String
    public var propertyCode: String
    public var recordKey: String?
    public var raw: [UInt8]
    public var reason: String
    /// What replay needs beside the bytes (see ops.dead_letters.context); part of its identity.
    public var context: [String: String]
    /// How the record arrived (pull, recovery, push, ping, backfill): replay lands it so.
    public var origin: String

    public init(
        stream: String, propertyCode: String, recordKey: String?, raw: [UInt8], reason: String,
        context: [String: String] = [:], origin: String = "pull"
    ) {
        self.stream = stream
        self.propertyCode = propertyCode
        self.recordKey = recordKey
        self.raw = raw
        self.reason = reason
        self.context = context
        self.origin = origin
    }

    /// The context as JSON text for a jsonb parameter.
    var contextJSON: String {
        let data = try? JSONSerialization.data(withJSONObject: context, options: [.sortedKeys])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// Writes dead letters; the same bad record seen again bumps its attempts.
public enum DeadLetterWriter {
    public static func write(
        _ letters: [DeadLetter], source: String, runId: String, batchId: String?,
        on connection: isolated PostgresConnection
    ) async throws {
        for letter in letters {
            try await connection.execute(
                """
                insert into ops.dead_letters
                       (source, stream, property_code, record_key, raw, raw_hash, reason, run_id, batch_id, context,
                        origin)
                values ($1, $2, $3, $4, $5, encode(sha256($5), 'hex'), $6, $7, $8, $9::jsonb, $10)
                on conflict (source, stream, property_code, context, raw_hash) do update
                   set attempts = ops.dead_letters.attempts + 1, last_seen = now(),
                       reason = excluded.reason, run_id = excluded.run_id, batch_id = excluded.batch_id
                """,
                [
                    source, letter.stream, letter.propertyCode, letter.recordKey, letter.raw, letter.reason, runId,
                    batchId, letter.contextJSON, letter.origin,
                ])
        }
    }
}

/// Landed batches in ops.batches: recorded in the transaction that lands their
/// rows, so a resumed run skips exactly what committed.
public enum BatchLedger {
    public struct Key: Sendable, Hashable {
        public var runId: String
        public var source: String
        public var stream: String
        public var propertyCode: String
        public var range: String

        public init(runId: String, source: String, stream: String, propertyCode: String, range: String) {
            self.runId = runId
            self.source = source
            self.stream = stream
            self.propertyCode = propertyCode
            self.range = range
        }

        /// A readable id for staging.batch_id; ops.batches keeps the parts in separate columns.
        public var batchId: String { "\(runId)/\(stream)/\(propertyCode)/\(range)" }
    }

    public static func isLanded(_ key: Key, on connection: isolated PostgresConnection) async throws -> Bool {
        try await !connection.query(
            """
            select 1 from ops.batches
            where run_id = $1 and source = $2 and stream = $3 and property_code = $4 and batch_range = $5
            """, [key.runId, key.source, key.stream, key.propertyCode, key.range]
        ).isEmpty
    }

    public static func record(
        _ key: Key, rows: Int, duplicates: Int, deadLetters: Int, on connection: isolated PostgresConnection
    ) async throws {
        try await connection.execute(
            """
            insert into ops.batches (run_id, source, stream, property_code, batch_range, rows_landed, duplicates, dead_letters)
            values ($1, $2, $3, $4, $5, $6, $7, $8)
            on conflict do nothing
            """, [key.runId, key.source, key.stream, key.propertyCode, key.range, rows, duplicates, deadLetters])
    }
}
