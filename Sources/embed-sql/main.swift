import Foundation

// embed-sql SQL_DIR OUTPUT.swift: writes every `.sql` file under SQL_DIR as a
// string literal of `WarehouseSQL.embeddedFiles`, in path order. Run by the
// EmbedSQL build plugin; the text must come out byte for byte as on disk,
// because migration checksums are computed over it.

/// A Swift string literal whose value is exactly `text`.
func literal(_ text: String) -> String {
    // Multi-line literals turn CR LF into LF; such text is written escaped instead.
    if text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }) {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            case "\r": escaped += "\\r"
            default:
                escaped += scalar.value < 0x20 ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
            }
        }
        return escaped + "\""
    }
    // A raw literal with more #s than any `"""#…` or `\#…` in the text: nothing in it is special.
    var hashes = "#"
    while text.contains("\"\"\"" + hashes) || text.contains("\\" + hashes) { hashes += "#" }
    return hashes + "\"\"\"\n" + text + "\n\"\"\"" + hashes
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("embed-sql: \(message)\n".utf8))
    exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else { fail("usage: embed-sql SQL_DIR OUTPUT.swift") }
let root = URL(fileURLWithPath: arguments[1], isDirectory: true).standardizedFileURL
guard let walk = FileManager.default.enumerator(atPath: root.path) else { fail("cannot list \(root.path)") }
let paths = walk.compactMap { $0 as? String }.filter { $0.hasSuffix(".sql") && !$0.hasPrefix(".") }.sorted()

var swift = """
    // Generated from sql/ by the EmbedSQL build plugin (embed-sql); do not edit.

    extension WarehouseSQL {
        static let embeddedFiles: [EmbeddedFile] = [

    """
for path in paths {
    let data = FileManager.default.contents(atPath: root.appendingPathComponent(path).path) ?? Data()
    guard let text = String(data: data, encoding: .utf8) else { fail("sql/\(path) is not UTF-8") }
    swift += "EmbeddedFile(path: \(literal(path)), sql: \(literal(text))),\n"
}
swift += "]\n}\n"
do {
    try Data(swift.utf8).write(to: URL(fileURLWithPath: arguments[2]), options: .atomic)
} catch {
    fail("cannot write \(arguments[2]): \(error)")
}
