import Foundation

/// A Swift type that can be read from a cell in PostgreSQL's text format.
public protocol PostgresDecodable {
    /// Parses the value's text (no NUL terminator); nil when the text is not a valid value.
    static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> Self?
    /// The value SQL NULL decodes to; nil, the default, makes NULL an error.
    static var postgresNull: Self? { get }
}

extension PostgresDecodable {
    public static var postgresNull: Self? { nil }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> Self? {
        Wrapped.decode(postgresText: text, type: type).map { .some($0) }
    }
    public static var postgresNull: Self? { .some(nil) }
}

/// Decoding a numeric as `String` gives its exact text, beyond `Decimal`'s 38 digits.
extension String: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> String? {
        String(decoding: text, as: UTF8.self)
    }
}

extension Int: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> Int? {
        parseInteger(text)
    }
}

extension Int64: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> Int64? {
        parseInteger(text)
    }
}

extension Int32: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> Int32? {
        parseInteger(text)
    }
}

extension Int16: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> Int16? {
        parseInteger(text)
    }
}

extension Double: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> Double? {
        // float8out writes NaN, Infinity and -Infinity, which Double(_:) reads too.
        Double(String(decoding: text, as: UTF8.self))
    }
}

extension Bool: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> Bool? {
        switch String(decoding: text, as: UTF8.self) {
        case "t", "true": true
        case "f", "false": false
        default: nil
        }
    }
}

extension Decimal: PostgresDecodable {
    /// Refuses values with more significant digits than `Decimal` holds, rather than rounding them.
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> Decimal? {
        let string = String(decoding: text, as: UTF8.self)
        if string == "NaN" { return .nan }
        guard let digits = significantDigits(text), digits <= 38 else { return nil }
        return Decimal(string: string, locale: Locale(identifier: "en_US_POSIX"))
    }

    /// Counts significant digits of a plain decimal (`-12.340`), nil if the text is not one.
    /// Zeros at either end do not count: `Decimal` keeps them in its exponent.
    private static func significantDigits(_ text: UnsafeRawBufferPointer) -> Int? {
        var digits: [UInt8] = []
        var sawPoint = false
        for (index, byte) in text.enumerated() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits.append(byte)
            case UInt8(ascii: "."):
                if sawPoint { return nil }
                sawPoint = true
            case UInt8(ascii: "-"), UInt8(ascii: "+"):
                if index != 0 { return nil }
            default: return nil
            }
        }
        guard !digits.isEmpty else { return nil }
        guard let first = digits.firstIndex(where: { $0 != UInt8(ascii: "0") }),
            let last = digits.lastIndex(where: { $0 != UInt8(ascii: "0") })
        else { return 0 }
        return last - first + 1
    }
}

/// Reads `timestamptz` (any offset), `timestamp` (as UTC) and `date` (midnight UTC).
extension Date: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> Date? {
        PostgresTimestamp.parse(text)
    }
}

extension PostgresDate: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> PostgresDate? {
        guard let parsed = DateTimeText.parse(text), parsed.infinity == 0, parsed.microsecondOfDay == 0,
            parsed.offsetSeconds == nil
        else { return nil }
        return PostgresDate(daysSinceEpoch: parsed.days)
    }
}

extension PostgresJSON: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> PostgresJSON? {
        PostgresJSON(String(decoding: text, as: UTF8.self))
    }
}

/// Reads bytea in the hex output format (`\x0a1b`), which every connection selects.
extension Array: PostgresDecodable where Element == UInt8 {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> [UInt8]? {
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"), text.count % 2 == 0 else {
            return nil
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity((text.count - 2) / 2)
        var index = 2
        while index < text.count {
            guard let high = hexValue(text[index]), let low = hexValue(text[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Data: PostgresDecodable {
    public static func decode(postgresText text: UnsafeRawBufferPointer, type: PostgresType) -> Data? {
        [UInt8].decode(postgresText: text, type: type).map { Data($0) }
    }
}

/// Parses an optionally signed decimal integer, refusing overflow instead of wrapping.
private func parseInteger<Value: FixedWidthInteger & SignedInteger>(_ text: UnsafeRawBufferPointer) -> Value? {
    var index = 0
    var negative = false
    if let first = text.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
        negative = first == UInt8(ascii: "-")
        index = 1
    }
    guard index < text.count else { return nil }
    var value: Value = 0
    while index < text.count {
        let byte = text[index]
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        let digit = Value(byte - UInt8(ascii: "0"))
        // Accumulate negatively so Value.min parses without overflowing.
        let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
        guard !overflow1, !overflow2 else { return nil }
        value = next
        index += 1
    }
    return value
}
