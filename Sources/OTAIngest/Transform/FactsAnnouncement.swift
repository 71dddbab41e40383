import Foundation
import PostgresClient

/// The `NOTIFY` every promotion sends when it commits, on `ota_ingest_facts`: which streams,
/// sources and properties changed, how many staged versions it promoted, and its horizon.
///
/// PostgreSQL refuses payloads of 8,000 bytes or more; a big promotion (a first load, a
/// night's transform) is summarised instead (property lists replaced by their counts, then
/// scopes merged per stream), so every payload is whole JSON.
public struct FactsAnnouncement: Codable, Sendable, Equatable {
    /// The channel consumers `LISTEN` on.
    public static let channel = "ota_ingest_facts"
    /// Below PostgreSQL's 8,000-byte limit.
    public static let payloadLimit = 7_900

    public struct Scope: Codable, Sendable, Equatable {
        public var stream: String
        /// Nil once merged across sources.
        public var source: String?
        /// Nil once summarised; `propertyCount` still says how many.
        public var properties: [String]?
        public var propertyCount: Int
        public var versions: Int

        enum CodingKeys: String, CodingKey {
            case stream, source, properties, versions
            case propertyCount = "property_count"
        }
    }

    /// Every push answered (every row landed) before it is in facts. Nil for a transform
    /// run by hand or by the nightly: it promoted everything committed before it began.
    public var horizon: Date?
    public var scopes: [Scope]
    /// True when property lists or sources were folded to keep the payload small.
    public var summarised: Bool

    public init(horizon: Date?, promoted: [PromotedScope]) {
        self.horizon = horizon
        var byScope: [String: Scope] = [:]
        var order: [String] = []
        for scope in promoted {
            let key = scope.stream + "\u{0}" + scope.source
            if byScope[key] == nil {
                order.append(key)
                byScope[key] = Scope(
                    stream: scope.stream, source: scope.source, properties: [], propertyCount: 0, versions: 0)
            }
            byScope[key]!.properties!.append(scope.property)
            byScope[key]!.propertyCount += 1
            byScope[key]!.versions += scope.versions
        }
        scopes = order.map { byScope[$0]! }
        summarised = false
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamps.format(date))
        }
        return encoder
    }()

    /// The JSON sent, under `limit` bytes: whole, or summarised until it fits.
    public func payload(limit: Int = payloadLimit) -> String {
        var announcement = self
        while true {
            let text = String(decoding: (try? Self.encoder.encode(announcement)) ?? Data("{}".utf8), as: UTF8.self)
            if text.utf8.count < limit { return text }
            guard announcement.summarise() else { return #"{"scopes":[],"summarised":true}"# }
        }
    }

    /// One step smaller: the longest property list becomes its count; with none left,
    /// sources of a stream merge. False when nothing is left to fold.
    mutating func summarise() -> Bool {
        summarised = true
        if let longest = scopes.indices.filter({ scopes[$0].properties != nil })
            .max(by: { scopes[$0].propertyCount < scopes[$1].propertyCount })
        {
            scopes[longest].properties = nil
            return true
        }
        var merged: [String: Scope] = [:]
        var order: [String] = []
        for scope in scopes {
            if var existing = merged[scope.stream] {
                existing.propertyCount += scope.propertyCount
                existing.versions += scope.versions
                existing.source = nil
                merged[scope.stream] = existing
            } else {
                order.append(scope.stream)
                merged[scope.stream] = scope
            }
        }
        guard order.count < scopes.count else { return false }
        scopes = order.map { merged[$0]! }
        return true
    }

    /// Sends it in the promotion's transaction: PostgreSQL delivers it when (and only if) that commits.
    static func announce(_ promoted: [PromotedScope], horizon: Date?, on connection: isolated PostgresConnection)
        async throws
    {
        guard !promoted.isEmpty else { return }
        let payload = FactsAnnouncement(horizon: horizon, promoted: promoted).payload()
        _ = try await connection.query("select pg_notify($1, $2)", [channel, payload])
    }

    /// Whether it tells of `stream` and `property` (nil: any). A summarised scope lists no
    /// properties, so it may concern any property of its stream.
    public func concerns(stream: String?, property: String?) -> Bool {
        scopes.contains { scope in
            (stream == nil || scope.stream == stream)
                && (property == nil || scope.properties == nil || scope.properties!.contains(property!))
        }
    }

    /// Reads a payload back (`ota-ingest watch`, consumers written in Swift).
    public static func decode(_ payload: String) throws -> FactsAnnouncement {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = Timestamps.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
            }
            return date
        }
        return try decoder.decode(FactsAnnouncement.self, from: Data(payload.utf8))
    }
}
