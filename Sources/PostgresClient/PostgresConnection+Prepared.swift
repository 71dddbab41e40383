import CLibPQ
import Glibc

extension PostgresConnection {
    /// Runs a statement with parameters through the session's statement cache: unprepared on
    /// its first use, prepared on its second, executed by name from then on.
    ///
    /// If the server refuses a cached statement (its table changed so that the result type
    /// would change, 0A000 "cached plan must not change result type", or the statement is gone,
    /// 26000), the cache forgets it. Outside a transaction the failed statement changed nothing,
    /// so it runs again at once, unprepared; inside one the transaction is aborted, so the error
    /// goes up to `transaction`, which rolls back and runs its body once more.
    func runCached(_ sql: String, _ buffer: ParameterBuffer, statement: String) throws -> ResultStorage {
        let handle = try liveHandle()
        deallocateStale(handle)
        let key = StatementCache.Key(sql: sql, types: buffer.types)
        let name: String
        switch statements.plan(for: key) {
        case .unprepared:
            return try runUnprepared(sql, buffer, statement: statement)
        case .prepare(let newName):
            let prepared = buffer.types.withUnsafeBufferPointer { types in
                PQprepare(handle, newName, sql, buffer.count, types.baseAddress)
            }
            _ = try checked(prepared, statement: statement)
            statements.prepared(key, as: newName)
            name = newName
        case .prepared(let existing):
            name = existing
        }
        do {
            let result = buffer.withPointers { _, values, lengths, formats in
                PQexecPrepared(handle, name, buffer.count, values, lengths, formats, 0)
            }
            return try checked(result, statement: statement)
        } catch let error as PostgresError where Self.isRefusedPlan(error) {
            statements.forget(key)
            guard PQtransactionStatus(handle) == PQTRANS_IDLE else {
                planRefused = true
                throw error
            }
            deallocateStale(handle)
            return try runUnprepared(sql, buffer, statement: statement)
        }
    }

    /// The server would not run a prepared statement as prepared; preparing it again fixes that.
    static func isRefusedPlan(_ error: PostgresError) -> Bool {
        error.kind == .server && (error.sqlState == .featureNotSupported || error.sqlState == .invalidSQLStatementName)
    }

    /// Deallocates statements the cache forgot, unless the transaction is aborted (then later).
    private func deallocateStale(_ handle: OpaquePointer) {
        guard !statements.stale.isEmpty, PQtransactionStatus(handle) != PQTRANS_INERROR else { return }
        for name in statements.stale {
            // A name the server no longer knows (26000) is what we wanted anyway.
            if let result = PQexec(handle, "deallocate \(name)") { PQclear(result) }
        }
        statements.deallocated()
    }

    /// Takes the note that a cached statement was refused inside the transaction just rolled back.
    func takeRefusedPlan() -> Bool {
        defer { planRefused = false }
        return planRefused
    }

    /// Replaces the session with a new one if the server dropped it (a restart, a terminated
    /// backend), when replacing it is safe: the connection opted in with `revivesDroppedSessions()`
    /// (it keeps no session state such as advisory locks), and no transaction is under way.
    ///
    /// Polling the idle session's socket (without blocking) and reading what the server sent
    /// (PQconsumeInput) tells a dropped session from a live one before any statement is sent, so
    /// nothing is sent twice. The new session has no prepared statements: the cache starts empty.
    func reviveIfDropped() {
        guard revivesDroppedSession, let handle, savepointDepth == 0 else { return }
        if PQstatus(handle) == CONNECTION_OK {
            guard PQtransactionStatus(handle) == PQTRANS_IDLE, Self.hasInput(handle) else { return }
            // A shutdown sends an error message, then closes the socket: read until the close shows.
            for _ in 0..<4 where PQstatus(handle) == CONNECTION_OK && Self.hasInput(handle) {
                _ = PQconsumeInput(handle)
            }
            if PQstatus(handle) == CONNECTION_OK { return }
        }
        PQreset(handle)
        // A failed reset leaves the session bad; the statement then reports the server's error.
        guard PQstatus(handle) == CONNECTION_OK else { return }
        statements.reset()
        sessionFacts = [:]
        planRefused = false
        canceller = QueryCanceller(connection: handle)
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        do { try setUpSession() } catch { PQfinish(handle); self.handle = nil }
    }

    /// Whether the server sent something (or closed the socket) while the session was idle;
    /// a live idle session has nothing to read. Does not block.
    private static func hasInput(_ handle: OpaquePointer) -> Bool {
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) != 0
    }

    /// Lets this connection replace a session the server dropped, before its next statement
    /// outside a transaction. Only for connections that keep no session state (advisory locks,
    /// temporary tables, `set` without `local`): those would silently be lost with the session.
    public func revivesDroppedSessions() {
        revivesDroppedSession = true
    }

    /// Statements prepared on this session now (for tests and diagnostics).
    public var preparedStatementCount: Int { statements.count }
}
