import PostgresClient

/// Retention and erasure: the two ways personal or old raw data leaves staging.
public enum Retention {
    /// Drops the observation partitions whose load dates are all older than `days` days (UTC);
    /// returns the partitions dropped. A partition drop, never a DELETE; facts keep their versions.
    public static func purgeObservations(olderThanDays days: Int, on connection: PostgresConnection) async throws
        -> [String]
    {
        try await connection.transaction { conn in
            try await conn.query(
                "select partition_name from staging.drop_load_partitions((now() at time zone 'UTC')::date - $1::int)",
                [days]
            ).map { try $0.decode(String.self, at: 0) }
        }
    }

    /// What an erasure scrubbed.
    public struct Erasure: Sendable, Equatable {
        public var events: Int
        public var deadLetters: Int
    }

    /// Removes the guest's personal data of one booking from staging and dead letters,
    /// keeping facts (they carry a salted hash, which the scrubbed rows keep). Logged in ops.erasures.
    public static func eraseGuest(confirmationID: String, runID: String, on connection: PostgresConnection)
        async throws -> Erasure
    {
        try await connection.transaction { conn in
            _ = try await conn.query("select set_config('ota.run_id', $1, true)", [runID])
            let row = try await conn.query("select events, dead_letters from staging.erase_guest($1)", [confirmationID])
            return Erasure(events: try row[0].decode(Int.self, at: 0), deadLetters: try row[0].decode(Int.self, at: 1))
        }
    }
}
