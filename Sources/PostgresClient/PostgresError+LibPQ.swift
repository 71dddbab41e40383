import CLibPQ

extension PostgresError {
    /// The error a failed result carries, with its SQLSTATE and diagnostic fields.
    static func from(result: OpaquePointer, connection: OpaquePointer, target: String, statement: String?) -> PostgresError {
        func field(_ code: Int32) -> String? { PQresultErrorField(result, code).map { String(cString: $0) } }
        guard let state = field(ota_pg_diag_sqlstate()) else {
            // libpq's own errors carry no SQLSTATE: a lost connection or a protocol problem.
            return fromConnection(connection, target: target, statement: statement, message: String(cString: PQresultErrorMessage(result)))
        }
        var error = PostgresError(
            kind: PQstatus(connection) == CONNECTION_OK ? .server : .connectionFailed,
            sqlState: SQLState(rawValue: state), message: field(ota_pg_diag_message_primary()) ?? "",
            detail: field(ota_pg_diag_message_detail()), hint: field(ota_pg_diag_message_hint()), statement: statement)
        if error.kind == .connectionFailed {
            error.message = lostMessage(target: target, reason: error.message)
        }
        error.schemaName = field(ota_pg_diag_schema_name())
        error.tableName = field(ota_pg_diag_table_name())
        error.constraintName = field(ota_pg_diag_constraint_name())
        error.copyLine = field(ota_pg_diag_context()).flatMap(copyLine(inContext:))
        return error
    }

    /// The error when libpq returned no result or one without SQLSTATE.
    static func fromConnection(
        _ connection: OpaquePointer, target: String, statement: String?, message: String? = nil
    ) -> PostgresError {
        let reason = (message.flatMap { $0.isEmpty ? nil : $0 } ?? String(cString: PQerrorMessage(connection))).oneLine
        if PQstatus(connection) != CONNECTION_OK {
            return PostgresError(
                kind: .connectionFailed, sqlState: .connectionFailure, message: lostMessage(target: target, reason: reason),
                statement: statement)
        }
        return PostgresError(kind: .protocolViolation, sqlState: .protocolViolation, message: reason, statement: statement)
    }

    private static func lostMessage(target: String, reason: String) -> String {
        "lost the connection to PostgreSQL at \(target): \(reason); fix: check that the server is running, then reconnect"
    }

    /// Finds N in a context line such as `COPY rates, line N, column doc: ...`.
    private static func copyLine(inContext context: String) -> Int? {
        for line in context.split(whereSeparator: \.isNewline) where line.hasPrefix("COPY ") {
            guard let marker = line.range(of: ", line ") else { continue }
            return Int(line[marker.upperBound...].prefix { $0.isNumber })
        }
        return nil
    }
}

/// One-line messages for connections that could not be made: the target, the reason, the fix.
enum ConnectionFailure {
    /// Rejects a malformed conninfo before libpq tries it, without echoing it (it may hold a password).
    static func validate(_ conninfo: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        if let options = PQconninfoParse(conninfo, &message) {
            PQconninfoFree(options)
            return
        }
        let reason = message.map { String(cString: $0) }?.oneLine ?? "it cannot be parsed"
        PQfreemem(message)
        throw PostgresError(
            kind: .connectionFailed, sqlState: .sqlClientUnableToEstablishConnection,
            message: "cannot connect to PostgreSQL: the connection string is invalid (\(redactingQuotes(reason))); "
                + "fix: set DATABASE_URL to postgresql://user@host:port/dbname or key=value pairs")
    }

    /// `host:port/database` as libpq resolved it; a socket directory stands in for the host.
    static func target(of connection: OpaquePointer) -> String {
        let host = PQhost(connection).map { String(cString: $0) } ?? ""
        let port = PQport(connection).map { String(cString: $0) } ?? ""
        let database = PQdb(connection).map { String(cString: $0) } ?? ""
        return "\(host.isEmpty ? "localhost" : host):\(port.isEmpty ? "5432" : port)/\(database)"
    }

    static func error(connecting connection: OpaquePointer) -> PostgresError {
        let reason = self.reason(String(cString: PQerrorMessage(connection)))
        return PostgresError(
            kind: .connectionFailed, sqlState: .sqlClientUnableToEstablishConnection,
            message: "cannot connect to PostgreSQL at \(target(of: connection)): \(reason); fix: \(fix(for: reason))")
    }

    /// libpq writes one "connection to server at ... failed: REASON" line per address tried,
    /// plus indented advice; the last address's reason is the one worth a line.
    private static func reason(_ message: String) -> String {
        var reason = ""
        for line in message.split(whereSeparator: \.isNewline) {
            if let marker = line.range(of: "failed: ", options: .backwards) {
                reason = String(line[marker.upperBound...])
            } else if reason.isEmpty {
                reason = String(line)
            }
        }
        let trimmed = Substring(reason).trimmingWhitespace()
        return trimmed.isEmpty ? "unknown error" : trimmed
    }

    private static func fix(for reason: String) -> String {
        let reason = reason.lowercased()
        if reason.contains("password") || reason.contains("authentication") || reason.contains("pg_hba.conf") {
            return "check the user and password in DATABASE_URL (or ~/.pgpass) and the server's pg_hba.conf"
        }
        if reason.contains("role") && reason.contains("does not exist") {
            return "correct the user name in DATABASE_URL"
        }
        if reason.contains("database") && reason.contains("does not exist") {
            return "create the database or correct its name in DATABASE_URL"
        }
        if reason.contains("too many clients") || reason.contains("starting up") || reason.contains("shutting down") {
            return "retry in a moment, or lower the number of connections"
        }
        if reason.contains("invalid") {
            return "correct DATABASE_URL (postgresql://user@host:port/dbname)"
        }
        return "start the server (`make db-start` for the local one) or correct the host and port in DATABASE_URL"
    }

    /// libpq quotes the offending part of a bad conninfo, which may be a password.
    private static func redactingQuotes(_ text: String) -> String {
        var result = ""
        var quoted = ""
        var inQuote = false
        for character in text {
            if character == "\"" {
                if inQuote { result += quoted.count <= 1 ? "\"\(quoted)\"" : "\"...\"" }
                quoted = ""
                inQuote.toggle()
            } else if inQuote {
                quoted.append(character)
            } else {
                result.append(character)
            }
        }
        return inQuote ? result + "\"..." : result
    }
}
