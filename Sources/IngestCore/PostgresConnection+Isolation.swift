import PostgresClient

extension PostgresConnection {
    /// Runs `body` with the connection isolated, outside any transaction: helpers that
    /// take `isolated PostgresConnection` can then be called from any task.
    public func withIsolation<Value: Sendable>(
        _ body: @Sendable (isolated PostgresConnection) async throws -> Value
    ) async throws -> Value {
        try await body(self)
    }
}
