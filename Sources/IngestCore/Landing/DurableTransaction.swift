import PostgresClient

extension PostgresConnection {
    /// A transaction whose commit is on disk before it returns, whatever the server's
    /// `synchronous_commit`: for every commit that precedes an acknowledgement to an
    /// OTA (a booking version before its sync, a push before its 200). Under
    /// `synchronous_commit = off` an immediate shutdown can lose a commit that already
    /// returned, and the OTA would then have forgotten what we never stored.
    public func durableTransaction<Value>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        try await transaction { conn in
            _ = try await conn.execute("set local synchronous_commit = on")
            return try await body(conn)
        }
    }
}
