import CLibPQ

extension PostgresConnection {
    /// Runs `body` in a transaction: BEGIN, then COMMIT if it returns, ROLLBACK if it throws
    /// (rethrowing the body's error). Inside another transaction it uses a savepoint instead.
    ///
    /// The body runs in the caller's isolation (like postgres-nio's `withTransaction`), so it may
    /// capture and change the caller's state under strict concurrency:
    /// `try await conn.transaction { conn in try await conn.execute(...) }`.
    /// Until the body ends, other tasks' statements on this connection wait their turn.
    @discardableResult
    public func transaction<Value>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        // A cached statement the server refused (see `runCached`) aborts the transaction through
        // no fault of the body's: the body then runs once more, its statements prepared afresh.
        var mayRetry = true
        while true {
            let scope = try await beginTransaction()
            let value: Value
            do {
                value = try await whileHolding { try await body(self) }
            } catch {
                await rollbackTransaction(scope)
                if await takeRefusedPlan(), mayRetry {
                    mayRetry = false
                    continue
                }
                throw error
            }
            do {
                try await commitTransaction(scope)
            } catch {
                if await takeRefusedPlan(), mayRetry {
                    mayRetry = false
                    continue
                }
                throw error
            }
            return value
        }
    }

    /// A transaction or savepoint in progress, and whether it took the session.
    struct TransactionScope: Sendable {
        var savepoint: String?
        var heldSession: Bool
    }

    private func beginTransaction() async throws -> TransactionScope {
        let heldSession = await holdSession()
        // Taking the session at the top level: no transaction is under way, so a dropped one may be replaced.
        if heldSession && savepointDepth == 0 { reviveIfDropped() }
        do {
            let handle = try liveHandle()
            if PQtransactionStatus(handle) == PQTRANS_IDLE {
                _ = try run("begin", [], statement: "BEGIN")
                return TransactionScope(savepoint: nil, heldSession: heldSession)
            }
            savepointDepth += 1
            let savepoint = "ota_savepoint_\(savepointDepth)"
            _ = try run("savepoint \(savepoint)", [], statement: "SAVEPOINT")
            return TransactionScope(savepoint: savepoint, heldSession: heldSession)
        } catch {
            if heldSession { releaseSession() }
            throw error
        }
    }

    /// Commits (or releases the savepoint), then lets other tasks in.
    private func commitTransaction(_ scope: TransactionScope) throws {
        // A body that caught a server error leaves the transaction aborted; COMMIT would then
        // quietly roll back and report success, so say so instead.
        if let handle, PQtransactionStatus(handle) == PQTRANS_INERROR {
            rollbackTransaction(scope)
            throw PostgresError(
                kind: .server, sqlState: .inFailedSQLTransaction,
                message: "the transaction was aborted by an earlier error that the body caught; it was rolled back",
                statement: scope.savepoint == nil ? "COMMIT" : "RELEASE SAVEPOINT")
        }
        defer { endScope(scope) }
        if let savepoint = scope.savepoint {
            _ = try run("release savepoint \(savepoint)", [], statement: "RELEASE SAVEPOINT")
        } else {
            _ = try run("commit", [], statement: "COMMIT")
        }
    }

    /// Rolls back (to the savepoint), then lets other tasks in. A failure here only means the
    /// session is gone, which the next call reports; the body's error is the one worth throwing.
    private func rollbackTransaction(_ scope: TransactionScope) {
        defer { endScope(scope) }
        if let savepoint = scope.savepoint {
            _ = try? run("rollback to savepoint \(savepoint)", [], statement: "ROLLBACK TO SAVEPOINT")
            _ = try? run("release savepoint \(savepoint)", [], statement: "RELEASE SAVEPOINT")
        } else {
            _ = try? run("rollback", [], statement: "ROLLBACK")
        }
    }

    private func endScope(_ scope: TransactionScope) {
        if scope.savepoint != nil { savepointDepth -= 1 }
        if scope.heldSession { releaseSession() }
    }
}
