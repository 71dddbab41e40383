/// A shallow, allocation-light JSON reader over raw bytes.
///
/// Landing keeps every record's original bytes as its raw payload, so records
/// are sliced out of a page rather than decoded and re-encoded (which costs
/// ten times more), and only the fields the loader needs are decoded.
/// The scanner checks structure (brackets, strings, escapes, literals) as it
/// skips; the server's jsonb parser is the final judge of anything it keeps.
public struct JSONScanner {
    public enum Kind: Sendable, Equatable {
        case object, array, string, number, bool, null
    }

    /// A value's place in the buffer.
    public struct Value: Sendable, Equatable {
        public var kind: Kind
        public var range: Range<Int>
    }

    public let bytes: UnsafeBufferPointer<UInt8>

    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The single value that makes up `range` (surrounding whitespace allowed).
    public func value(in range: Range<Int>) throws -> Value {
        var i = skipWhitespace(range.lowerBound, range.upperBound)
        let value = try scanValue(&i, range.upperBound)
        i = skipWhitespace(i, range.upperBound)
        guard i == range.upperBound else { throw JSONScanError(offset: i, reason: "unexpected data after the value") }
        return value
    }

    /// Calls `body` for each member of the object at `object`, in order.
    public func members(of object: Value, _ body: (_ key: Range<Int>, _ value: Value) throws -> Void) throws {
        guard object.kind == .object else {
            throw JSONScanError(offset: object.range.lowerBound, reason: "not an object")
        }
        let end = object.range.upperBound - 1
        var i = skipWhitespace(object.range.lowerBound + 1, end)
        if i == end { return }
        while true {
            guard i < end, bytes[i] == UInt8(ascii: "\"") else {
                throw JSONScanError(offset: i, reason: "expected a member name")
            }
            let keyStart = i
            try skipString(&i, end)
            let key = (keyStart + 1)..<(i - 1)
            i = skipWhitespace(i, end)
            guard i < end, bytes[i] == UInt8(ascii: ":") else { throw JSONScanError(offset: i, reason: "expected ':'") }
            i = skipWhitespace(i + 1, end)
            let value = try scanValue(&i, end)
            try body(key, value)
            i = skipWhitespace(i, end)
            if i == end { return }
            guard bytes[i] == UInt8(ascii: ",") else { throw JSONScanError(offset: i, reason: "expected ',' or '}'") }
            i = skipWhitespace(i + 1, end)
        }
    }

    /// Calls `body` for each element of the array at `array`, in order.
    public func elements(of array: Value, _ body: (Value) throws -> Void) throws {
        guard array.kind == .array else { throw JSONScanError(offset: array.range.lowerBound, reason: "not an array") }
        let end = array.range.upperBound - 1
        var i = skipWhitespace(array.range.lowerBound + 1, end)
        if i == end { return }
        while true {
            let value = try scanValue(&i, end)
            try body(value)
            i = skipWhitespace(i, end)
            if i == end { return }
            guard bytes[i] == UInt8(ascii: ",") else { throw JSONScanError(offset: i, reason: "expected ',' or ']'") }
            i = skipWhitespace(i + 1, end)
        }
    }

    /// The member of `object` named `name`, if present (first occurrence).
    public func member(_ name: StaticString, of object: Value) throws -> Value? {
        var found: Value?
        try members(of: object) { key, value in
            if found == nil, keyEquals(key, name) { found = value }
        }
        return found
    }

    /// Whether the raw key bytes (no escapes expected in our keys) equal `name`.
    public func keyEquals(_ key: Range<Int>, _ name: StaticString) -> Bool {
        guard key.count == name.utf8CodeUnitCount else { return false }
        let expected = name.utf8Start
        for offset in 0..<key.count where bytes[key.lowerBound + offset] != expected[offset] {
            return false
        }
        return true
    }

    /// The decoded text of a string value.
    public func string(_ value: Value) throws -> String {
        guard value.kind == .string else {
            throw JSONScanError(offset: value.range.lowerBound, reason: "expected a string")
        }
        let inner = (value.range.lowerBound + 1)..<(value.range.upperBound - 1)
        if !inner.contains(where: { bytes[$0] == UInt8(ascii: "\\") }) {
            guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[inner]), as: UTF8.self) else {
                throw JSONScanError(offset: inner.lowerBound, reason: "invalid UTF-8 in a string")
            }
            return text
        }
        return try unescape(inner)
    }

    /// The decoded text of a member name, given the range `members(of:)` reported.
    public func key(_ range: Range<Int>) throws -> String {
        try string(Value(kind: .string, range: (range.lowerBound - 1)..<(range.upperBound + 1)))
    }

    /// The raw text of a value (a number's digits, a literal), for exact decoding.
    public func text(_ value: Value) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[value.range]), as: UTF8.self)
    }

    public func int(_ value: Value) throws -> Int {
        guard value.kind == .number, let number = Int(text(value)) else {
            throw JSONScanError(offset: value.range.lowerBound, reason: "expected an integer")
        }
        return number
    }

    // MARK: - Scanning

    private func skipWhitespace(_ start: Int, _ end: Int) -> Int {
        var i = start
        while i < end {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return i
            }
        }
        return i
    }

    private func scanValue(_ i: inout Int, _ end: Int) throws -> Value {
        guard i < end else { throw JSONScanError(offset: i, reason: "unexpected end of data") }
        let start = i
        switch bytes[i] {
        case UInt8(ascii: "{"):
            try skipContainer(&i, end)
            return Value(kind: .object, range: start..<i)
        case UInt8(ascii: "["):
            try skipContainer(&i, end)
            return Value(kind: .array, range: start..<i)
        case UInt8(ascii: "\""):
            try skipString(&i, end)
            return Value(kind: .string, range: start..<i)
        case UInt8(ascii: "t"):
            try expectLiteral("true", &i, end)
            return Value(kind: .bool, range: start..<i)
        case UInt8(ascii: "f"):
            try expectLiteral("false", &i, end)
            return Value(kind: .bool, range: start..<i)
        case UInt8(ascii: "n"):
            try expectLiteral("null", &i, end)
            return Value(kind: .null, range: start..<i)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            i += 1
            while i < end {
                switch bytes[i] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
                    UInt8(ascii: "+"), UInt8(ascii: "-"):
                    i += 1
                default:
                    return Value(kind: .number, range: start..<i)
                }
            }
            return Value(kind: .number, range: start..<i)
        default:
            throw JSONScanError(offset: i, reason: "unexpected character")
        }
    }

    /// Skips a balanced object or array; strings inside are skipped whole so
    /// brackets in text do not count.
    private func skipContainer(_ i: inout Int, _ end: Int) throws {
        var depth = 0
        while i < end {
            switch bytes[i] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                i += 1
                if depth == 0 { return }
            case UInt8(ascii: "\""):
                try skipString(&i, end)
            default:
                i += 1
            }
        }
        throw JSONScanError(offset: i, reason: "unterminated object or array")
    }

    private func skipString(_ i: inout Int, _ end: Int) throws {
        i += 1
        while i < end {
            switch bytes[i] {
            case UInt8(ascii: "\""):
                i += 1
                return
            case UInt8(ascii: "\\"):
                i += 2
            case 0..<0x20:
                throw JSONScanError(offset: i, reason: "control character in a string")
            default:
                i += 1
            }
        }
        throw JSONScanError(offset: i, reason: "unterminated string")
    }

    private func expectLiteral(_ literal: StaticString, _ i: inout Int, _ end: Int) throws {
        let count = literal.utf8CodeUnitCount
        guard i + count <= end else { throw JSONScanError(offset: i, reason: "unexpected end of data") }
        for offset in 0..<count where bytes[i + offset] != literal.utf8Start[offset] {
            throw JSONScanError(offset: i, reason: "invalid literal")
        }
        i += count
    }

    private func unescape(_ range: Range<Int>) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        while i < range.upperBound {
            let byte = bytes[i]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                i += 1
                continue
            }
            guard i + 1 < range.upperBound else { throw JSONScanError(offset: i, reason: "bad escape") }
            let escaped = bytes[i + 1]
            i += 2
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(&i, range.upperBound)
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard i + 1 < range.upperBound, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u")
                    else { throw JSONScanError(offset: i, reason: "unpaired surrogate") }
                    i += 2
                    let low = try hex4(&i, range.upperBound)
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw JSONScanError(offset: i, reason: "unpaired surrogate")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw JSONScanError(offset: i, reason: "invalid \\u escape")
                }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw JSONScanError(offset: i, reason: "bad escape")
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw JSONScanError(offset: range.lowerBound, reason: "invalid UTF-8 in a string")
        }
        return text
    }

    private func hex4(_ i: inout Int, _ end: Int) throws -> UInt32 {
        guard i + 4 <= end else { throw JSONScanError(offset: i, reason: "short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[i]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw JSONScanError(offset: i, reason: "bad \\u escape")
            }
            value = value << 4 | digit
            i += 1
        }
        return value
    }
}

/// Malformed JSON, with the byte offset where reading stopped.
public struct JSONScanError: Error, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public var description: String { "malformed JSON at byte \(offset): \(reason)" }
}
