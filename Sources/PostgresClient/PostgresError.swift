/// An error from PostgreSQL or from talking to it: SQLSTATE, message, detail and hint, never parameter values.
///
/// `detail` is the server's own text and can echo a value from the row at fault, e.g.
/// `Key (id)=(42) already exists.`; log it where row data may be logged, not where secrets go.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// Where the error arose.
    public enum Kind: Sendable, Hashable {
        /// No connection could be made, or an established one was lost.
        case connectionFailed
        /// The server rejected a statement; `sqlState` says why.
        case server
        /// The client and server disagree about the protocol, e.g. an unexpected result status.
        case protocolViolation
        /// The client refused a request before sending it, e.g. a text parameter with a NUL character.
        case client
    }

    public var kind: Kind
    public var sqlState: SQLState
    /// The primary message, one line for connection failures: target, reason and fix.
    public var message: String
    public var detail: String?
    public var hint: String?
    /// A prepared statement's name or the first line of the SQL; never parameter values.
    public var statement: String?
    public var schemaName: String?
    public var tableName: String?
    public var constraintName: String?
    /// The 1-based line of COPY data the server rejected, parsed from the error context when present.
    public var copyLine: Int?

    public init(
        kind: Kind, sqlState: SQLState, message: String, detail: String? = nil, hint: String? = nil,
        statement: String? = nil
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.statement = statement
    }

    /// One line: the SQLSTATE, the message, then detail, hint, COPY line and statement when known.
    public var description: String {
        if kind == .connectionFailed { return message.oneLine }
        var text = "PostgreSQL error \(sqlState.rawValue): \(message.oneLine)"
        if let detail { text += "; detail: \(detail.oneLine)" }
        if let hint { text += "; hint: \(hint.oneLine)" }
        if let copyLine { text += "; COPY data line \(copyLine)" }
        if let statement { text += "; statement: \(statement)" }
        return text
    }
}

extension String {
    /// Server messages can span lines; logs and terminals want one.
    var oneLine: String {
        split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
            .joined(separator: " ")
    }

    /// The first non-blank line, trimmed and capped, to name a statement without quoting a whole script.
    /// Every query computes it, so it walks bytes only as far as that line: splitting the
    /// whole statement into lines of Characters cost the receiver about 5% of its CPU.
    var statementSummary: String {
        let bytes = utf8
        var start = bytes.startIndex
        while start < bytes.endIndex {
            // Line breaks are ASCII, so these byte positions are character boundaries too.
            let end =
                bytes[start...].firstIndex { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") } ?? bytes.endIndex
            let line = self[start..<end].trimmingWhitespace()
            if !line.isEmpty { return line.count > 120 ? String(line.prefix(117)) + "..." : line }
            start = end < bytes.endIndex ? bytes.index(after: end) : end
        }
        return ""
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map(index(after:)) ?? start
        return start < end ? String(self[start..<end]) : ""
    }
}
