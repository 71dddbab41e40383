/// Why a record was refused at the boundary (a field missing, a rule broken), with its
/// key and property where they could be read: what its dead letter says.
public struct RecordRefusal: Error, Sendable {
    public var reason: String
    public var key: String?
    public var property: String?

    public init(reason: String, key: String? = nil, property: String? = nil) {
        self.reason = reason
        self.key = key
        self.property = property
    }
}

/// A record refused within a page: where its bytes are, and what its dead letter carries.
public struct RefusedRecord: Sendable {
    public var raw: Range<Int>
    public var key: String
    public var reason: String
    /// The record's own property, where it names one (backfill files hold many).
    public var property: String?
    /// What a replay needs beside the bytes (see ops.dead_letters.context).
    public var context: [String: String]

    public init(
        raw: Range<Int>, key: String, reason: String, property: String? = nil, context: [String: String] = [:]
    ) {
        self.raw = raw
        self.key = key
        self.reason = reason
        self.property = property
        self.context = context
    }
}
