extension PostgresConnection {
    /// Opens a session, lends it to `body`, and closes it however `body` ends: a connection
    /// closed by its scope, never left to `deinit` or a task nobody awaits.
    public static func withConnection<Value>(
        _ conninfo: String, applicationName: String = "ota-ingest",
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Value
    ) async throws -> sending Value {
        let connection = try await connect(conninfo, applicationName: applicationName)
        let value: Value
        do {
            value = try await body(connection)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        return value
    }
}
