import Foundation

/// Reads the start tags of a small XML document (local names and attributes), which is
/// all the sandbox needs from acknowledgements and push answers. It refuses DTDs and
/// stops at anything that is not well-formed enough to trust.
struct XMLTagScanner {
    struct Tag {
        /// The element name without its prefix.
        var name: String
        var attributes: [String: String]
    }

    /// The start tags in document order, or nil for a body that is not XML (or has a DTD).
    static func startTags(_ bytes: [UInt8]) -> [Tag]? {
        var tags: [Tag] = []
        var i = 0
        let n = bytes.count
        while i < n {
            guard bytes[i] == UInt8(ascii: "<") else {
                i += 1
                continue
            }
            guard i + 1 < n else { return nil }
            let next = bytes[i + 1]
            if next == UInt8(ascii: "?") {
                guard let end = find(bytes, "?>", from: i) else { return nil }
                i = end + 2
            } else if next == UInt8(ascii: "!") {
                if starts(bytes, "<!--", at: i) {
                    guard let end = find(bytes, "-->", from: i + 4) else { return nil }
                    i = end + 3
                } else if starts(bytes, "<![CDATA[", at: i) {
                    guard let end = find(bytes, "]]>", from: i) else { return nil }
                    i = end + 3
                } else {
                    return nil
                }
            } else if next == UInt8(ascii: "/") {
                guard let end = bytes[i...].firstIndex(of: UInt8(ascii: ">")) else { return nil }
                i = end + 1
            } else {
                guard let (tag, end) = parseStartTag(bytes, at: i + 1) else { return nil }
                tags.append(tag)
                i = end
            }
        }
        return tags.isEmpty ? nil : tags
    }

    private static func parseStartTag(_ b: [UInt8], at start: Int) -> (Tag, Int)? {
        var i = start
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        while i < b.count && !isSpace(b[i]) && b[i] != UInt8(ascii: ">") && b[i] != UInt8(ascii: "/") { i += 1 }
        let qualified = String(decoding: b[start..<i], as: UTF8.self)
        guard !qualified.isEmpty else { return nil }
        let name = qualified.split(separator: ":").last.map(String.init) ?? qualified
        var attributes: [String: String] = [:]
        while i < b.count {
            while i < b.count && isSpace(b[i]) { i += 1 }
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ">") { return (Tag(name: name, attributes: attributes), i + 1) }
            if b[i] == UInt8(ascii: "/") {
                guard i + 1 < b.count, b[i + 1] == UInt8(ascii: ">") else { return nil }
                return (Tag(name: name, attributes: attributes), i + 2)
            }
            let keyStart = i
            while i < b.count && b[i] != UInt8(ascii: "=") && !isSpace(b[i]) { i += 1 }
            let key = String(decoding: b[keyStart..<i], as: UTF8.self)
            while i < b.count && isSpace(b[i]) { i += 1 }
            guard i < b.count, b[i] == UInt8(ascii: "=") else { return nil }
            i += 1
            while i < b.count && isSpace(b[i]) { i += 1 }
            guard i < b.count, b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") else { return nil }
            let quote = b[i]
            i += 1
            let valueStart = i
            while i < b.count && b[i] != quote { i += 1 }
            guard i < b.count else { return nil }
            let local = key.split(separator: ":").last.map(String.init) ?? key
            attributes[local] = unescape(String(decoding: b[valueStart..<i], as: UTF8.self))
            i += 1
        }
        return nil
    }

    private static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        return s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    private static func starts(_ b: [UInt8], _ text: String, at i: Int) -> Bool {
        let t = Array(text.utf8)
        return i + t.count <= b.count && Array(b[i..<(i + t.count)]) == t
    }

    private static func find(_ b: [UInt8], _ text: String, from: Int) -> Int? {
        let t = Array(text.utf8)
        guard b.count >= t.count else { return nil }
        var i = from
        while i + t.count <= b.count {
            if b[i] == t[0] && Array(b[i..<(i + t.count)]) == t { return i }
            i += 1
        }
        return nil
    }
}
