import Foundation
import PostgresClient

/// `ota-ingest dlq list`: what is in ops.dead_letters, without the raw bytes
/// (they can hold personal data) unless one record is asked for by id.
public enum DeadLetterQueue {
    public struct Entry: Sendable {
        public var id: Int64
        public var source: String
        public var stream: String
        public var property: String
        public var recordKey: String?
        public var reason: String
        public var attempts: Int
        public var firstSeen: String
        public var lastSeen: String
        public var replayedAt: String?
    }

    public struct Filter: Sendable {
        public var source: String?
        public var stream: String?
        public var id: Int64?
        public var includeReplayed: Bool

        public init(source: String? = nil, stream: String? = nil, id: Int64? = nil, includeReplayed: Bool = false) {
            self.source = source
            self.stream = stream
            self.id = id
            self.includeReplayed = includeReplayed
        }

        /// The WHERE clause on parameters $1..$4; fixed text.
        public static let condition = """
            ($1::text is null or source = $1) and ($2::text is null or stream = $2)
            and ($3::bigint is null or dead_letter_id = $3) and ($4 or replayed_at is null)
            """

        public var parameters: [(any PostgresBindable)?] { [source, stream, id, includeReplayed] }
    }

    /// The newest entries matching `filter` (at most `limit`), and how many match in all.
    public static func list(_ filter: Filter, limit: Int, on connection: PostgresConnection) async throws -> (
        entries: [Entry], total: Int
    ) {
        let time = #"'YYYY-MM-DD HH24:MI:SS'"#
        let rows = try await connection.query(
            """
            select dead_letter_id, source, stream, property_code, record_key, reason, attempts,
                   to_char(first_seen at time zone 'UTC', \(time)), to_char(last_seen at time zone 'UTC', \(time)),
                   to_char(replayed_at at time zone 'UTC', \(time))
            from ops.dead_letters where \(Filter.condition)
            order by dead_letter_id desc limit $5
            """, filter.parameters + [limit])
        let entries = try rows.map { row in
            Entry(
                id: try row.decode(Int64.self, at: 0), source: try row.decode(String.self, at: 1),
                stream: try row.decode(String.self, at: 2), property: try row.decode(String.self, at: 3),
                recordKey: try row.decode(String?.self, at: 4), reason: try row.decode(String.self, at: 5),
                attempts: try row.decode(Int.self, at: 6), firstSeen: try row.decode(String.self, at: 7),
                lastSeen: try row.decode(String.self, at: 8), replayedAt: try row.decode(String?.self, at: 9))
        }
        let total = try await connection.query(
            "select count(*)::int from ops.dead_letters where \(Filter.condition)", filter.parameters)[0].decode(
                Int.self, at: 0)
        return (entries, total)
    }

    /// One dead letter's raw bytes, exactly as received.
    public static func raw(id: Int64, on connection: PostgresConnection) async throws -> [UInt8]? {
        try await connection.query("select raw from ops.dead_letters where dead_letter_id = $1", [id]).first?.decode(
            [UInt8].self, at: 0)
    }

    /// A plain-text table, one line per entry; long keys and reasons are cut to fit a screen.
    public static func table(_ entries: [Entry]) -> String {
        let header = [
            "id", "source", "stream", "property", "record key", "reason", "attempts", "first seen", "last seen",
        ]
        var rows = [header]
        for e in entries {
            rows.append([
                String(e.id), e.source, e.stream, e.property, cut(e.recordKey ?? "", 28), cut(e.reason, 60),
                String(e.attempts), e.firstSeen, e.replayedAt.map { "replayed \($0)" } ?? e.lastSeen,
            ])
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    private static func cut(_ text: String, _ length: Int) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.count <= length ? flat : String(flat.prefix(length - 1)) + "…"
    }
}
