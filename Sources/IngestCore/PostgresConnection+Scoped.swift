import PostgresClient

extension PostgresConnection {
    /// Connects, runs `body`, and closes the connection however `body` ends: the
    /// only way a runner holds a connection of its own (never closed by deinit or
    /// by a task nobody waits for).
    public static func withConnection<Value>(
        _ url: String, isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        let connection = try await connect(url)
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    /// `count` connections, closed together however `body` ends.
    public static func withConnections<Value>(
        _ url: String, count: Int, isolation: isolated (any Actor)? = #isolation,
        _ body: ([PostgresConnection]) async throws -> Value
    ) async throws -> Value {
        var connections: [PostgresConnection] = []
        do {
            for _ in 0..<count { connections.append(try await connect(url)) }
            let value = try await body(connections)
            for connection in connections { await connection.close() }
            return value
        } catch {
            for connection in connections { await connection.close() }
            throw error
        }
    }
}
