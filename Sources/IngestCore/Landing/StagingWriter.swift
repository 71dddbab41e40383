import PostgresClient

/// COPYs rows into staging; rows PostgreSQL itself rejects (e.g. `\u0000` in
/// jsonb) are found and returned instead of failing the batch.
///
/// Each attempt runs in a savepoint of the caller's transaction. When the
/// server names the offending COPY line, that row is set aside and the rest
/// copied again; otherwise the batch is split in halves until the bad rows
/// stand alone.
public enum StagingWriter {
    public struct Rejected: Sendable {
        public var index: Int
        public var reason: String
    }

    /// Lands `rows` (whose raw payloads are slices of `page`) and returns the rows
    /// refused, by index, with the server's reason.
    public static func land<Row: StagingRow>(
        _ rows: [Row], page: [UInt8], on connection: isolated PostgresConnection
    ) async throws -> [Rejected] {
        var excluded: [Int: String] = [:]
        // Observation logs keep raw as text (cheaper than jsonb), so refuse here what
        // jsonb would have refused: a \u0000 escape, which raw::jsonb could never read.
        page.withUnsafeBytes { bytes in
            for (index, row) in rows.enumerated()
            where containsEscapedNul(UnsafeRawBufferPointer(rebasing: bytes[row.raw])) {
                excluded[index] = "a string holds \\u0000, which PostgreSQL's jsonb cannot store (SQLSTATE 22P05)"
            }
        }
        while true {
            let included = rows.indices.filter { excluded[$0] == nil }
            if included.isEmpty { break }
            do {
                try await copy(rows, included, page: page, on: connection)
                break
            } catch let error as PostgresError where isDataError(error) {
                if let line = error.copyLine, line >= 1, line <= included.count {
                    excluded[included[line - 1]] = reason(error)
                } else {
                    for rejected in try await bisect(rows, included, page: page, on: connection) {
                        excluded[rejected.index] = rejected.reason
                    }
                    break
                }
            }
        }
        return excluded.keys.sorted().map { Rejected(index: $0, reason: excluded[$0]!) }
    }

    private static func copy<Row: StagingRow>(
        _ rows: [Row], _ indices: [Int], page: [UInt8], on connection: isolated PostgresConnection
    ) async throws {
        try await connection.transaction { conn in
            _ = try await conn.copyIn(Row.copyStatement) { writer in
                try page.withUnsafeBytes { bytes in
                    for index in indices { try rows[index].write(to: &writer, page: bytes) }
                }
            }
        }
    }

    /// Lands the good rows of `indices` half by half; returns the bad ones.
    private static func bisect<Row: StagingRow>(
        _ rows: [Row], _ indices: [Int], page: [UInt8], on connection: isolated PostgresConnection
    ) async throws -> [Rejected] {
        do {
            try await copy(rows, indices, page: page, on: connection)
            return []
        } catch let error as PostgresError where isDataError(error) {
            if indices.count == 1 { return [Rejected(index: indices[0], reason: reason(error))] }
            let middle = indices.count / 2
            let left = try await bisect(rows, Array(indices[..<middle]), page: page, on: connection)
            let right = try await bisect(rows, Array(indices[middle...]), page: page, on: connection)
            return left + right
        }
    }

    /// Whether JSON text holds the escape `\u0000` (and not an escaped backslash before "u0000").
    public static func containsEscapedNul(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        var i = 0
        while i + 5 < count {
            if bytes[i] == UInt8(ascii: "\\") {
                if bytes[i + 1] == UInt8(ascii: "u") && bytes[i + 2] == UInt8(ascii: "0")
                    && bytes[i + 3] == UInt8(ascii: "0")
                    && bytes[i + 4] == UInt8(ascii: "0") && bytes[i + 5] == UInt8(ascii: "0")
                {
                    return true
                }
                // Skip the escaped character, so "\\u0000" (a backslash, then text) does not count.
                i += 2
                continue
            }
            i += 1
        }
        return false
    }

    /// Errors about a row's content (classes 22 data exception and 23 constraint
    /// violation), as opposed to the server or the statement failing.
    public static func isDataError(_ error: PostgresError) -> Bool {
        error.kind == .server && (error.sqlState.rawValue.hasPrefix("22") || error.sqlState.rawValue.hasPrefix("23"))
    }

    private static func reason(_ error: PostgresError) -> String {
        "rejected by PostgreSQL (SQLSTATE \(error.sqlState.rawValue)): \(error.message)"
    }
}
