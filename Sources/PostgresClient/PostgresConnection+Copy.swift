import CLibPQ

extension PostgresConnection {
    /// Runs `COPY ... FROM STDIN` and streams the rows `body` writes; returns the rows copied.
    ///
    /// The body runs on the connection's thread, so it should only produce rows. If it throws, the
    /// COPY is ended with a failure message (the server aborts it and keeps no row) and the body's
    /// error is rethrown; if the server rejects data, its error (SQLSTATE, `copyLine`) is thrown.
    /// Either way the connection stays usable.
    public func copyIn(_ sql: String, _ body: (inout PostgresCopyWriter) throws -> Void) async throws -> Int {
        try await cancellable {
            let handle = try liveHandle()
            let statement = sql.statementSummary
            try startCopy(handle, sql, expecting: PGRES_COPY_IN, statement: statement)
            var writer = PostgresCopyWriter(handle: handle)
            var bodyError: (any Error)?
            do {
                try body(&writer)
                try writer.flush()
            } catch {
                bodyError = error
            }
            if !writer.interrupted {
                // The failure message is fixed text: the body's error may quote row data.
                let failure = bodyError == nil ? nil : "copyIn body threw; nothing from this COPY is kept"
                _ = PQputCopyEnd(handle, failure)
            }
            let outcome = finishCopy(handle, statement: statement)
            if let bodyError, !(bodyError is CopyInterrupted) { throw bodyError }
            return try outcome.get()
        }
    }

    /// Runs `COPY ... TO STDOUT` and hands each chunk of data (one row in text or CSV format)
    /// to `body`, valid only during the call; returns the rows copied.
    ///
    /// If the body throws, the server is asked to cancel, the remaining data is discarded, and
    /// the body's error is rethrown.
    public func copyOut(_ sql: String, _ body: (UnsafeRawBufferPointer) throws -> Void) async throws -> Int {
        try await cancellable {
            let handle = try liveHandle()
            let statement = sql.statementSummary
            try startCopy(handle, sql, expecting: PGRES_COPY_OUT, statement: statement)
            var bodyError: (any Error)?
            while true {
                var chunk: UnsafeMutablePointer<CChar>?
                let length = PQgetCopyData(handle, &chunk, 0)
                guard length > 0, let chunk else { break }
                defer { PQfreemem(chunk) }
                guard bodyError == nil else { continue }
                do {
                    try body(UnsafeRawBufferPointer(start: chunk, count: Int(length)))
                } catch {
                    bodyError = error
                    canceller?.cancel()
                }
            }
            let outcome = finishCopy(handle, statement: statement)
            if let bodyError { throw bodyError }
            return try outcome.get()
        }
    }

    private func startCopy(_ handle: OpaquePointer, _ sql: String, expecting: ExecStatusType, statement: String) throws {
        guard let result = PQexec(handle, sql) else {
            throw PostgresError.fromConnection(handle, target: target, statement: statement)
        }
        let status = PQresultStatus(result)
        if status == expecting {
            PQclear(result)
            return
        }
        // Not the COPY we wanted: report the server's error, or a misuse.
        _ = try checked(result, statement: statement)
        throw PostgresError(
            kind: .client, sqlState: .protocolViolation,
            message: expecting == PGRES_COPY_IN
                ? "copyIn needs a COPY ... FROM STDIN statement" : "copyOut needs a COPY ... TO STDOUT statement",
            statement: statement)
    }

    /// Reads the results that end a COPY; the first error wins.
    func finishCopy(_ handle: OpaquePointer, statement: String) -> Result<Int, PostgresError> {
        var outcome: Result<Int, PostgresError>?
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK:
                outcome = outcome ?? .success(Int(String(cString: PQcmdTuples(result))) ?? 0)
            case PGRES_COPY_IN:
                // Still copying in (we never ended it): end it so the server moves on.
                if PQputCopyEnd(handle, "abandoned by the client") != 1 { return lost(handle, statement, outcome) }
            case PGRES_COPY_OUT:
                discardCopyOut(handle)
            default:
                outcome = outcome ?? .failure(
                    PostgresError.from(result: result, connection: handle, target: target, statement: statement))
            }
        }
        return outcome ?? lost(handle, statement, nil)
    }

    /// Ends a COPY that was started by a statement not meant for it, keeping the session usable.
    func abandonCopy(_ handle: OpaquePointer) {
        _ = finishCopy(handle, statement: "")
    }

    private func discardCopyOut(_ handle: OpaquePointer) {
        var chunk: UnsafeMutablePointer<CChar>?
        while PQgetCopyData(handle, &chunk, 0) > 0 {
            PQfreemem(chunk)
            chunk = nil
        }
    }

    private func lost(
        _ handle: OpaquePointer, _ statement: String, _ outcome: Result<Int, PostgresError>?
    ) -> Result<Int, PostgresError> {
        outcome ?? .failure(PostgresError.fromConnection(handle, target: target, statement: statement))
    }
}
