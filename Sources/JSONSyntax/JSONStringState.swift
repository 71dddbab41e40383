/// Which part of JSON text a byte belongs to, read one byte at a time: the one place
/// that knows where a string starts and ends (a `\"` inside one does not end it).
///
/// Scanners that only need the structure around strings (where a record ends in a file,
/// how deep a body nests) feed every byte through `role(of:)` and look at brackets only
/// when it says `.structure`. It validates nothing; `JSONScanner` reads values.
@frozen
public struct JSONStringState: Sendable {
    /// Where a byte falls.
    @frozen
    public enum Role: Sendable {
        /// Outside every string: brackets, commas, colons, white space, numbers, literals.
        case structure
        /// The `"` that opens a string.
        case openingQuote
        /// Inside a string, escapes included.
        case inString
        /// The `"` that closes a string.
        case closingQuote
    }

    @usableFromInline var inString = false
    @usableFromInline var escaped = false

    @inlinable
    public init() {}

    /// The role of the next byte, which moves the state past it.
    @inlinable
    public mutating func role(of byte: UInt8) -> Role {
        if inString {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
                return .closingQuote
            }
            return .inString
        }
        if byte == UInt8(ascii: "\"") {
            inString = true
            return .openingQuote
        }
        return .structure
    }
}

/// How deep brackets nest in JSON text.
public enum JSONNesting {
    /// The deepest `{`/`[` nesting outside strings (0 for a scalar); text need not be valid.
    public static func depth(of bytes: [UInt8]) -> Int {
        var state = JSONStringState()
        var depth = 0
        var deepest = 0
        for byte in bytes where state.role(of: byte) == .structure {
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            default:
                break
            }
        }
        return deepest
    }
}
