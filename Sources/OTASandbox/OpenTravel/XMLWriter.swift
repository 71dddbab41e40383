/// Writes XML by hand, like the sandbox's JSON: element and attribute order are
/// fixed, so the same world gives the same bytes.
struct XMLWriter {
    var bytes: [UInt8] = []

    static let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

    /// `<name a="v">` (or `<name a="v"/>` when `empty`); nil attributes are left out.
    mutating func open(_ name: String, _ attributes: [(String, String?)] = [], empty: Bool = false) {
        bytes.append(UInt8(ascii: "<"))
        bytes.append(contentsOf: name.utf8)
        for (key, value) in attributes {
            guard let value else { continue }
            bytes.append(UInt8(ascii: " "))
            bytes.append(contentsOf: key.utf8)
            bytes.append(contentsOf: "=\"".utf8)
            escape(value, quotes: true)
            bytes.append(UInt8(ascii: "\""))
        }
        if empty { bytes.append(UInt8(ascii: "/")) }
        bytes.append(UInt8(ascii: ">"))
    }

    mutating func close(_ name: String) {
        bytes.append(contentsOf: "</".utf8)
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: ">"))
    }

    /// `<name>text</name>`.
    mutating func element(_ name: String, text: String) {
        open(name)
        escape(text, quotes: false)
        close(name)
    }

    /// Character data, escaped.
    mutating func text(_ text: String) {
        escape(text, quotes: false)
    }

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    private mutating func escape(_ text: String, quotes: Bool) {
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "<"): bytes.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): bytes.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "&"): bytes.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "\"") where quotes: bytes.append(contentsOf: "&quot;".utf8)
            default: bytes.append(b)
            }
        }
    }
}

/// Money as OpenTravel writes it: two decimals, a point.
func otaAmount(_ cents: Int) -> String {
    var out: [UInt8] = []
    JSONText.appendCents(cents, to: &out)
    return String(decoding: out, as: UTF8.self)
}
