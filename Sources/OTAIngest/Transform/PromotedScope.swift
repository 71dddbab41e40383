import Foundation
import PostgresClient

/// What one promotion brought into facts for one stream, source and property: the staged
/// versions it read, the newest OTA event time and the newest landing among them.
public struct PromotedScope: Sendable, Equatable {
    public var stream: String
    public var source: String
    public var property: String
    public var versions: Int
    public var lastEventAt: Date?
    public var lastLoadedAt: Date

    public init(
        stream: String, source: String, property: String, versions: Int, lastEventAt: Date?, lastLoadedAt: Date
    ) {
        self.stream = stream
        self.source = source
        self.property = property
        self.versions = versions
        self.lastEventAt = lastEventAt
        self.lastLoadedAt = lastLoadedAt
    }

    /// The promotion's `promoted` table (sql/transforms/60_freshness.sql), inside its transaction.
    static func read(on connection: isolated PostgresConnection) async throws -> [PromotedScope] {
        try await connection.query(
            """
            select stream, source, property_code, versions, last_event_at, last_loaded_at
            from promoted order by stream, source, property_code
            """
        ).map { row in
            PromotedScope(
                stream: try row.decode(column: "stream"), source: try row.decode(column: "source"),
                property: try row.decode(column: "property_code"), versions: try row.decode(column: "versions"),
                lastEventAt: try row.decode(column: "last_event_at"),
                lastLoadedAt: try row.decode(column: "last_loaded_at"))
        }
    }
}
