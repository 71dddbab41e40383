import Foundation
import HTTPClient

/// A generic incremental feed: `GET {base}/inventory?limit&updated_after&cursor`
/// with a bearer token, answering `{results, next_cursor}`.
public struct CursorClient: Sendable {
    let baseURL: String
    let token: String
    let caller: SourceCaller

    public init(baseURL: String, token: String, caller: SourceCaller) {
        self.baseURL = baseURL
        self.token = token
        self.caller = caller
    }

    /// One page: the body, each record's place in it, and the next cursor.
    public struct Page: Sendable {
        public var body: [UInt8]
        public var records: [JSONScanner.Value]
        public var nextCursor: String?
    }

    public func page(limit: Int, updatedAfter: String?, cursor: String?) async throws -> Page {
        var query = [("limit", String(limit))]
        if let cursor {
            query.append(("cursor", cursor))
        } else if let updatedAfter {
            query.append(("updated_after", updatedAfter))
        }
        let url = QueryString.url(baseURL + "/inventory", query)
        let request = HTTPClientRequest(
            url: url, headers: ["Accept": "application/json"], authorization: .bearer(token: token))
        let response = try await caller.send(
            request,
            what: cursor == nil
                ? "read inventory from \(updatedAfter ?? "the beginning")" : "read the next inventory page",
            isComplete: { JSONScanner.isComplete($0.body) })
        return try response.body.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            let root = try scanner.value(in: 0..<buffer.count)
            guard root.kind == .object, let results = try scanner.member("results", of: root), results.kind == .array
            else {
                throw SourceError(
                    source: caller.sourceName, what: "read inventory", reason: "the response has no results array",
                    attempts: 1)
            }
            var records: [JSONScanner.Value] = []
            try scanner.elements(of: results) { records.append($0) }
            var next: String?
            if let cursor = try scanner.member("next_cursor", of: root), cursor.kind == .string {
                next = try scanner.string(cursor)
            }
            return Page(body: response.body, records: records, nextCursor: next)
        }
    }
}

/// Validates cursor-feed records into rate rows.
public enum InventoryRecordParser {
    public struct Parsed: Sendable {
        public var key: String
        /// FNV-1a 64 of the record's bytes (the key is among them).
        public var hash: UInt64
        public var hashText: String { String(hash, radix: 16) }
        public var updatedAt: Date
        public var updatedAtText: String
    }

    struct Refusal: Error {
        var reason: String
    }

    /// FNV-1a 64 of the record's bytes: enough to tell two versions of one key apart
    /// (not a security boundary), and cheap at a million records.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in range {
            h ^= UInt64(bytes[i])
            h &*= 0x0000_0100_0000_01b3
        }
        return h
    }

    /// The last timestamp parsed: records of one page mostly share a few
    /// `updated_at` values, and parsing dominates the per-record cost.
    final class TimestampMemo {
        var text = ""
        var date: Date?
    }

    /// Reads one record; throws `Refusal` with the field and rule when it is invalid.
    static func parse(
        _ record: JSONScanner.Value, _ scanner: JSONScanner, stamp: LoadStamp, memo: TimestampMemo = TimestampMemo()
    ) throws -> (Parsed, RateRow) {
        guard record.kind == .object else { throw Refusal(reason: "record is not an object") }
        guard String(validating: UnsafeBufferPointer(rebasing: scanner.bytes[record.range]), as: UTF8.self) != nil
        else {
            throw Refusal(reason: "record is not valid UTF-8")
        }
        var id: String?
        var property: String?
        var room: String?
        var rate: String?
        var stayDate: String?
        var adults: Int?
        var children = 0
        var price: String?
        var currency: String?
        var available: Int?
        var updatedAt: (Date, String)?
        var channel = ""
        try scanner.members(of: record) { key, value in
            func text() throws -> String {
                guard value.kind == .string, let s = try? scanner.string(value) else {
                    throw Refusal(
                        reason:
                            "\(String(decoding: UnsafeBufferPointer(rebasing: scanner.bytes[key]), as: UTF8.self)) must be a string"
                    )
                }
                return s
            }
            func integer(_ label: String, min: Int) throws -> Int {
                guard value.kind == .number, let n = try? scanner.int(value) else {
                    throw Refusal(reason: "\(label) must be an integer")
                }
                guard n >= min else { throw Refusal(reason: "\(label) \(n) is below \(min)") }
                return n
            }
            if scanner.keyEquals(key, "id") {
                let recordID = try text()
                // Any field holding U+0000 is refused when its row lands (StagingWriter); the id
                // is also the watermark boundary's entry (jsonb) and the dead letter's key, which
                // cannot hold it either, so it is refused here, before it reaches them.
                guard !recordID.utf8.contains(0) else {
                    throw Refusal(reason: "id contains a NUL character (\\u0000), which text cannot hold")
                }
                id = recordID
            } else if scanner.keyEquals(key, "property_id") {
                property = try text()
            } else if scanner.keyEquals(key, "room_code") {
                room = try text()
            } else if scanner.keyEquals(key, "rate_plan_code") {
                rate = try text()
            } else if scanner.keyEquals(key, "stay_date") {
                let t = try text()
                guard CivilDate(t) != nil else { throw Refusal(reason: "stay_date must be a real date (YYYY-MM-DD)") }
                stayDate = t
            } else if scanner.keyEquals(key, "adults") {
                adults = try integer("adults", min: 1)
            } else if scanner.keyEquals(key, "children") {
                children = try integer("children", min: 0)
            } else if scanner.keyEquals(key, "price") {
                do {
                    price = try InventoryPageParser.decimal(value, scanner, label: "price")
                } catch let error as InventoryPageParser.EntryError {
                    throw Refusal(reason: error.reason)
                }
            } else if scanner.keyEquals(key, "currency") {
                let c = try text()
                guard Currencies.isKnown(c) else {
                    throw Refusal(reason: "currency \"\(c)\" is not a known ISO 4217 code")
                }
                currency = c
            } else if scanner.keyEquals(key, "available") {
                available = try integer("available", min: 0)
            } else if scanner.keyEquals(key, "updated_at") {
                let t = try text()
                if t != memo.text {
                    memo.text = t
                    memo.date = Timestamps.parse(t)
                }
                guard let d = memo.date else {
                    throw Refusal(reason: "updated_at must be an ISO-8601 timestamp")
                }
                updatedAt = (d, t)
            } else if scanner.keyEquals(key, "channel") {
                channel = try text()
            }
        }
        func need<T>(_ value: T?, _ name: String) throws -> T {
            guard let value else { throw Refusal(reason: "missing key \(name)") }
            return value
        }
        let parsed = Parsed(
            key: try need(id, "id"), hash: hash(scanner.bytes, record.range),
            updatedAt: try need(updatedAt, "updated_at").0,
            updatedAtText: updatedAt!.1)
        var rowStamp = stamp
        rowStamp.propertyCode = try need(property, "property_id")
        let row = RateRow(
            stamp: rowStamp, stream: "inventory", rateId: try need(rate, "rate_plan_code"),
            roomCode: try need(room, "room_code"),
            stayDate: try need(stayDate, "stay_date"), adults: try need(adults, "adults"),
            children: children,
            channel: channel, price: try need(price, "price"), currency: try need(currency, "currency"),
            closeout: false,
            minStay: 1, available: try need(available, "available"), sourceKey: parsed.key, sourceHash: parsed.hashText,
            sourceUpdatedAt: parsed.updatedAtText, raw: record.range)
        return (parsed, row)
    }
}
