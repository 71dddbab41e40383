import CLibPQ

extension PostgresConnection {
    /// Runs `body` in a transaction: BEGIN, then COMMIT if it returns, ROLLBACK if it throws
    /// (rethrowing the body's error). Inside another transaction it uses a savepoint instead.
    ///
    /// The body gets the connection `isolated`, so its calls run on the connection's thread
    /// without hops and it compiles from any task or actor:
    /// `try await conn.transaction { conn in try await conn.execute(...) }`.
    public func transaction<Value: Sendable>(
        _ body: @Sendable (isolated PostgresConnection) async throws -> Value
    ) async throws -> Value {
        let handle = try liveHandle()
        let nested = PQtransactionStatus(handle) != PQTRANS_IDLE
        let savepoint = "ota_savepoint_\(savepointDepth + 1)"
        _ = try run(nested ? "savepoint \(savepoint)" : "begin", [], statement: nested ? "SAVEPOINT" : "BEGIN")
        if nested { savepointDepth += 1 }
        defer { if nested { savepointDepth -= 1 } }
        let value: Value
        do {
            value = try await body(self)
        } catch {
            // The body's error is the one worth reporting; a failed ROLLBACK only means the
            // session is gone, which the next call will report.
            _ = try? run(nested ? "rollback to savepoint \(savepoint)" : "rollback", [], statement: "ROLLBACK")
            if nested { _ = try? run("release savepoint \(savepoint)", [], statement: "RELEASE SAVEPOINT") }
            throw error
        }
        // A body that caught a server error leaves the transaction aborted; COMMIT would then
        // quietly roll back and report success, so say so instead.
        if let handle = self.handle, PQtransactionStatus(handle) == PQTRANS_INERROR {
            _ = try? run(nested ? "rollback to savepoint \(savepoint)" : "rollback", [], statement: "ROLLBACK")
            if nested { _ = try? run("release savepoint \(savepoint)", [], statement: "RELEASE SAVEPOINT") }
            throw PostgresError(
                kind: .server, sqlState: .inFailedSQLTransaction,
                message: "the transaction was aborted by an earlier error that the body caught; it was rolled back",
                statement: "COMMIT")
        }
        _ = try run(nested ? "release savepoint \(savepoint)" : "commit", [], statement: nested ? "RELEASE SAVEPOINT" : "COMMIT")
        return value
    }
}
