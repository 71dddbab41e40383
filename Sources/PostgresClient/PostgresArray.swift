/// A one-dimensional text[] parameter, sent in PostgreSQL's binary array format, so that many
/// rows travel as a few parameters (`unnest($1::text[], $2::text[])`) with no quoting at all.
///
/// Elements must not contain NUL (U+0000), which PostgreSQL text cannot store: check with
/// `PostgresTextArray.canHold` first.
public struct PostgresTextArray: PostgresBindable {
    public var elements: [String?]
    public init(_ elements: [String?]) { self.elements = elements }

    /// Whether PostgreSQL text can hold `value` (it has no NUL character).
    public static func canHold(_ value: String?) -> Bool {
        value.map { !$0.utf8.contains(0) } ?? true
    }

    public static var postgresType: PostgresType { PostgresType(rawValue: 1009) }
    public var postgresParameter: PostgresParameter {
        .binary(arrayBytes(elementType: PostgresType.text.rawValue, elements.map { $0.map { Array($0.utf8) } }))
    }
}

/// A one-dimensional bytea[] parameter in PostgreSQL's binary array format.
public struct PostgresByteaArray: PostgresBindable {
    public var elements: [[UInt8]?]
    public init(_ elements: [[UInt8]?]) { self.elements = elements }

    public static var postgresType: PostgresType { PostgresType(rawValue: 1001) }
    public var postgresParameter: PostgresParameter {
        .binary(arrayBytes(elementType: PostgresType.bytea.rawValue, elements))
    }
}

/// array_recv's input: dimensions, a has-nulls flag, the element type, then each element as a
/// length (-1 for NULL) and its bytes; all integers big-endian.
private func arrayBytes(elementType: UInt32, _ elements: [[UInt8]?]) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(20 + elements.reduce(0) { $0 + 4 + ($1?.count ?? 0) })
    func append(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
    let hasNulls = elements.contains { $0 == nil }
    append(elements.isEmpty ? 0 : 1)
    append(hasNulls ? 1 : 0)
    append(elementType)
    if !elements.isEmpty {
        append(UInt32(elements.count))
        append(1)
    }
    for element in elements {
        guard let element else {
            append(UInt32(bitPattern: -1))
            continue
        }
        append(UInt32(element.count))
        bytes.append(contentsOf: element)
    }
    return bytes
}
