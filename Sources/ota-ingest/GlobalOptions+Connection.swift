import OTAIngest
import PostgresClient

extension GlobalOptions {
    /// Connects, runs `body`, and closes the connection however `body` ends;
    /// a database error becomes the one-line `DatabaseFailure` (exit status 1).
    func withConnection<Value>(_ body: (PostgresConnection) async throws -> Value) async throws -> Value {
        let connection = try await connect()
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch let error as PostgresError {
            await connection.close()
            throw DatabaseFailure(error: error)
        } catch {
            await connection.close()
            throw error
        }
    }
}
