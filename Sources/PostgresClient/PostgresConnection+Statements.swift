import CLibPQ

extension PostgresConnection {
    /// Runs one statement with parameters and returns its rows.
    ///
    /// Values travel apart from the SQL (PQexecParams), so quotes, backslashes or SQL in a value
    /// are data, never syntax: `try await conn.query("select $1::text, $2::int", ["o'hara", 42])`.
    public func query(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> PostgresResult {
        try await cancellable { PostgresResult(storage: try run(sql, parameters, statement: sql.statementSummary)) }
    }

    /// Runs one statement with parameters and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> Int {
        try await cancellable { try run(sql, parameters, statement: sql.statementSummary).affectedRows }
    }

    /// Runs a script of several statements without parameters (PQexec), e.g. a migration file.
    ///
    /// Unless the script has its own BEGIN/COMMIT, the server runs it as one implicit transaction.
    public func executeScript(_ sql: String) async throws {
        try await cancellable {
            let handle = try liveHandle()
            _ = try checked(PQexec(handle, sql), statement: sql.statementSummary)
        }
    }

    /// Prepares a named statement for `executePrepared`; `types` may pin parameter types (default: inferred).
    public func prepare(name: String, sql: String, types: [PostgresType] = []) async throws {
        try await cancellable {
            let handle = try liveHandle()
            let oids = types.map(\.rawValue)
            _ = try checked(PQprepare(handle, name, sql, Int32(oids.count), oids), statement: name)
        }
    }

    /// Runs a statement prepared with `prepare(name:sql:types:)`; errors name the statement.
    public func executePrepared(
        name: String, _ parameters: [(any PostgresBindable)?] = []
    ) async throws -> PostgresResult {
        try await cancellable {
            let handle = try liveHandle()
            let buffer = try ParameterBuffer(parameters, statement: name)
            let result = buffer.withPointers { _, values, lengths, formats in
                PQexecPrepared(handle, name, buffer.count, values, lengths, formats, 0)
            }
            return PostgresResult(storage: try checked(result, statement: name))
        }
    }

    /// Runs one statement without cancellation support; also used for cleanup that must run
    /// even in a cancelled task (ROLLBACK, unlock).
    /// A statement with parameters goes through the session's statement cache (see `runCached`).
    func run(_ sql: String, _ parameters: [(any PostgresBindable)?], statement: String) throws -> ResultStorage {
        let buffer = try ParameterBuffer(parameters, statement: statement)
        if !parameters.isEmpty { return try runCached(sql, buffer, statement: statement) }
        return try runUnprepared(sql, buffer, statement: statement)
    }

    /// Runs one statement parsed and planned on the spot (PQexecParams).
    func runUnprepared(_ sql: String, _ buffer: ParameterBuffer, statement: String) throws -> ResultStorage {
        let handle = try liveHandle()
        // Text results (the final 0): the decoders read PostgreSQL's text output.
        let result = buffer.withPointers { types, values, lengths, formats in
            PQexecParams(handle, sql, buffer.count, types, values, lengths, formats, 0)
        }
        return try checked(result, statement: statement)
    }

    /// Takes ownership of a result, turning error statuses into `PostgresError`.
    func checked(_ result: OpaquePointer?, statement: String) throws -> ResultStorage {
        let handle = try liveHandle()
        guard let result else {
            throw PostgresError.fromConnection(handle, target: target, statement: statement)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return ResultStorage(taking: result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            PQclear(result)
            abandonCopy(handle)
            throw PostgresError(
                kind: .client, sqlState: .protocolViolation,
                message: "COPY must run through copyIn or copyOut, which stream its data", statement: statement)
        default:
            let error = PostgresError.from(result: result, connection: handle, target: target, statement: statement)
            PQclear(result)
            throw error
        }
    }
}
