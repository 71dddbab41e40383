import Foundation

/// A Swift value that can be sent as a statement parameter (`$1`, `$2`, ...).
///
/// Values travel separately from the SQL text (PQexecParams), so no value is ever spliced into SQL.
public protocol PostgresBindable: Sendable {
    /// The parameter type sent with the value; `.unspecified` lets the server infer it from context.
    static var postgresType: PostgresType { get }
    /// The value in wire form; `.null` is SQL NULL.
    var postgresParameter: PostgresParameter { get }
}

/// A parameter value in the form libpq sends: text (UTF-8, no NUL character), binary, or NULL.
public enum PostgresParameter: Sendable, Hashable {
    case text(String)
    case binary([UInt8])
    case null
}

/// A jsonb value given as its JSON text.
public struct PostgresJSON: Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public init(_ text: String) { self.text = text }
    public var description: String { text }
}

extension String: PostgresBindable {
    // Unspecified, like a quoted literal, so a string can feed a date, uuid or enum column.
    public static var postgresType: PostgresType { .unspecified }
    public var postgresParameter: PostgresParameter { .text(self) }
}

extension Substring: PostgresBindable {
    public static var postgresType: PostgresType { .unspecified }
    public var postgresParameter: PostgresParameter { .text(String(self)) }
}

extension Int: PostgresBindable {
    public static var postgresType: PostgresType { .int8 }
    public var postgresParameter: PostgresParameter { .text(String(self)) }
}

extension Int64: PostgresBindable {
    public static var postgresType: PostgresType { .int8 }
    public var postgresParameter: PostgresParameter { .text(String(self)) }
}

extension Int32: PostgresBindable {
    public static var postgresType: PostgresType { .int4 }
    public var postgresParameter: PostgresParameter { .text(String(self)) }
}

extension Int16: PostgresBindable {
    public static var postgresType: PostgresType { .int2 }
    public var postgresParameter: PostgresParameter { .text(String(self)) }
}

extension Double: PostgresBindable {
    public static var postgresType: PostgresType { .float8 }
    public var postgresParameter: PostgresParameter {
        // Swift prints "inf" and "nan"; float8in wants these spellings. The shortest
        // round-tripping decimal Swift prints for finite values reads back exactly.
        if isNaN { return .text("NaN") }
        if isInfinite { return .text(self < 0 ? "-Infinity" : "Infinity") }
        return .text(description)
    }
}

extension Bool: PostgresBindable {
    public static var postgresType: PostgresType { .bool }
    public var postgresParameter: PostgresParameter { .text(self ? "t" : "f") }
}

extension Decimal: PostgresBindable {
    public static var postgresType: PostgresType { .numeric }
    // Decimal's description is locale-independent ("1.5", "NaN"), which numeric_in accepts.
    public var postgresParameter: PostgresParameter { .text(description) }
}

extension Date: PostgresBindable {
    public static var postgresType: PostgresType { .timestamptz }
    /// ISO 8601 in UTC with microseconds, PostgreSQL's own precision.
    public var postgresParameter: PostgresParameter { .text(PostgresTimestamp.format(self)) }
}

extension PostgresDate: PostgresBindable {
    public static var postgresType: PostgresType { .date }
    public var postgresParameter: PostgresParameter { .text(description) }
}

extension PostgresJSON: PostgresBindable {
    public static var postgresType: PostgresType { .jsonb }
    public var postgresParameter: PostgresParameter { .text(text) }
}

extension Array: PostgresBindable where Element == UInt8 {
    public static var postgresType: PostgresType { .bytea }
    public var postgresParameter: PostgresParameter { .binary(self) }
}

extension Data: PostgresBindable {
    public static var postgresType: PostgresType { .bytea }
    public var postgresParameter: PostgresParameter { .binary([UInt8](self)) }
}

extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    public static var postgresType: PostgresType { Wrapped.postgresType }
    public var postgresParameter: PostgresParameter { self?.postgresParameter ?? .null }
}
