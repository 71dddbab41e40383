/// A small XML reader for pushed and pulled XML: elements, attributes, text and the
/// five predefined entities plus character references, nothing else.
///
/// Anything that could make a parser fetch or expand (a DOCTYPE, an entity
/// declaration, a processing instruction other than the declaration) is refused
/// outright, so there is no XXE and no billion laughs to defend against. Depth
/// and size are bounded by the caller's body limit and `maxDepth`.
public struct SafeXML {
    /// An element: its name, attributes, text (concatenated), child elements in order,
    /// and where it stands in the document (start tag to end tag).
    public struct Element: Sendable {
        public var name: String
        public var attributes: [(name: String, value: String)] = []
        public var text: [UInt8] = []
        public var children: [Element] = []
        public var range: Range<Int> = 0..<0

        public init(name: String, children: [Element] = []) {
            self.name = name
            self.children = children
        }

        /// The name without its namespace prefix.
        public var localName: Substring {
            guard let colon = name.lastIndex(of: ":") else { return name[...] }
            return name[name.index(after: colon)...]
        }

        /// The value of the attribute `name` (as written, prefix included).
        public func attribute(_ name: String) -> String? {
            attributes.first(where: { $0.name == name })?.value
        }

        /// The child elements whose local name is `name`.
        public func children(_ name: String) -> [Element] { children.filter { $0.localName == name } }

        /// The first child element whose local name is `name`.
        public func child(_ name: String) -> Element? { children.first { $0.localName == name } }
    }

    public struct Refusal: Error, Sendable {
        public var reason: String
    }

    public static let maxDepth = 64

    /// Parses a whole document and returns its root element.
    public static func parse(_ bytes: [UInt8]) throws -> Element {
        var parser = SafeXML(bytes: bytes)
        return try parser.document()
    }

    private let bytes: [UInt8]
    private var i = 0

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func document() throws -> Element {
        skipSpace()
        if starts(with: "<?xml") {
            guard let end = find("?>") else { throw Refusal(reason: "unterminated XML declaration") }
            i = end + 2
        }
        try skipMisc()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "<") else { throw Refusal(reason: "no root element") }
        let root = try element(depth: 0)
        try skipMisc()
        guard i == bytes.count else { throw Refusal(reason: "content after the root element") }
        return root
    }

    /// Whitespace and comments; a DOCTYPE or processing instruction is refused.
    private mutating func skipMisc() throws {
        while true {
            skipSpace()
            if starts(with: "<!--") {
                guard let end = find("-->") else { throw Refusal(reason: "unterminated comment") }
                i = end + 3
            } else if starts(with: "<!") {
                throw Refusal(reason: "DOCTYPE and entity declarations are not accepted")
            } else if starts(with: "<?") {
                throw Refusal(reason: "processing instructions are not accepted")
            } else {
                return
            }
        }
    }

    private mutating func element(depth: Int) throws -> Element {
        guard depth < Self.maxDepth else { throw Refusal(reason: "elements nested deeper than \(Self.maxDepth)") }
        let start = i
        i += 1  // "<"
        let name = try self.name()
        var element = Element(name: name)
        element.attributes = try attributes(of: name)
        guard i < bytes.count else { throw Refusal(reason: "unterminated start tag <\(name)>") }
        if bytes[i] == UInt8(ascii: "/") {
            guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: ">") else {
                throw Refusal(reason: "malformed empty element <\(name)/>")
            }
            i += 2
            element.range = start..<i
            return element
        }
        i += 1  // ">"
        while true {
            guard i < bytes.count else { throw Refusal(reason: "element <\(name)> is not closed") }
            if starts(with: "</") {
                i += 2
                let closing = try self.name()
                skipSpace()
                guard closing == name, i < bytes.count, bytes[i] == UInt8(ascii: ">") else {
                    throw Refusal(reason: "</\(closing)> closes <\(name)>")
                }
                i += 1
                element.range = start..<i
                return element
            } else if starts(with: "<!--") {
                guard let end = find("-->") else { throw Refusal(reason: "unterminated comment") }
                i = end + 3
            } else if starts(with: "<![CDATA[") {
                guard let end = find("]]>") else { throw Refusal(reason: "unterminated CDATA section") }
                element.text += bytes[(i + 9)..<end]
                i = end + 3
            } else if starts(with: "<!") || starts(with: "<?") {
                throw Refusal(reason: "declarations and processing instructions are not accepted")
            } else if bytes[i] == UInt8(ascii: "<") {
                element.children.append(try self.element(depth: depth + 1))
            } else if bytes[i] == UInt8(ascii: "&") {
                element.text += try entity()
            } else {
                element.text.append(bytes[i])
                i += 1
            }
        }
    }

    /// `name="value"` pairs up to `>` or `/>`; values are decoded like text, and a `<` in
    /// one (which XML forbids) is refused.
    private mutating func attributes(of element: String) throws -> [(name: String, value: String)] {
        var found: [(name: String, value: String)] = []
        while true {
            skipSpace()
            guard i < bytes.count else { return found }
            if bytes[i] == UInt8(ascii: ">") || bytes[i] == UInt8(ascii: "/") { return found }
            let name = try self.name()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
                throw Refusal(reason: "attribute \(name) of <\(element)> has no value")
            }
            i += 1
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else {
                throw Refusal(reason: "attribute \(name) of <\(element)> is not quoted")
            }
            let quote = bytes[i]
            i += 1
            var value: [UInt8] = []
            while true {
                guard i < bytes.count else { throw Refusal(reason: "attribute \(name) of <\(element)> is not closed") }
                let b = bytes[i]
                if b == quote { break }
                if b == UInt8(ascii: "<") { throw Refusal(reason: "attribute \(name) of <\(element)> holds a <") }
                if b == UInt8(ascii: "&") {
                    value += try entity()
                } else {
                    value.append(b)
                    i += 1
                }
            }
            i += 1
            guard !found.contains(where: { $0.name == name }) else {
                throw Refusal(reason: "attribute \(name) of <\(element)> is repeated")
            }
            found.append((name, String(decoding: value, as: UTF8.self)))
            guard i < bytes.count else { return found }
            let next = bytes[i]
            guard [0x20, 0x09, 0x0A, 0x0D].contains(next) || next == UInt8(ascii: ">") || next == UInt8(ascii: "/")
            else { throw Refusal(reason: "attributes of <\(element)> are not separated by space") }
        }
    }

    private mutating func name() throws -> String {
        let start = i
        while i < bytes.count {
            let b = bytes[i]
            let ok =
                (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
                || b == UInt8(ascii: ":")
            if !ok { break }
            i += 1
        }
        guard i > start, i - start <= 200 else { throw Refusal(reason: "an element name is missing or too long") }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// `&lt;` and friends, `&#N;`, `&#xH;`; any other reference is refused (no entities are declared).
    private mutating func entity() throws -> [UInt8] {
        guard let end = bytes[i...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
            throw Refusal(reason: "a bare & in text")
        }
        let body = String(decoding: bytes[(i + 1)..<end], as: UTF8.self)
        i = end + 1
        switch body {
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "amp": return [UInt8(ascii: "&")]
        case "quot": return [UInt8(ascii: "\"")]
        case "apos": return [UInt8(ascii: "'")]
        default:
            let scalar: UInt32?
            if body.hasPrefix("#x") {
                scalar = UInt32(body.dropFirst(2), radix: 16)
            } else if body.hasPrefix("#") {
                scalar = UInt32(body.dropFirst(1))
            } else {
                throw Refusal(reason: "entity &\(body); is not declared (entities are not accepted)")
            }
            guard let value = scalar, value > 0, let unicode = Unicode.Scalar(value) else {
                throw Refusal(reason: "character reference &\(body); is not a character")
            }
            return Array(String(Character(unicode)).utf8)
        }
    }

    private mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    private func starts(with text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard i + count <= bytes.count else { return false }
        return text.withUTF8Buffer { prefix in
            for k in 0..<count where bytes[i + k] != prefix[k] { return false }
            return true
        }
    }

    private func find(_ text: StaticString) -> Int? {
        let count = text.utf8CodeUnitCount
        return text.withUTF8Buffer { needle in
            var k = i
            while k + count <= bytes.count {
                var match = true
                for j in 0..<count where bytes[k + j] != needle[j] {
                    match = false
                    break
                }
                if match { return k }
                k += 1
            }
            return nil
        }
    }
}
