import Foundation
import Testing

/// The README is the front door and docs/ the rooms behind it: every relative link in them must lead
/// somewhere (a file in the checkout, and a heading where it names one), and the front door stays small.
@Suite("Documentation links")
struct DocumentationLinkTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func documents() throws -> [URL] {
        let docs = root.appendingPathComponent("docs")
        let names = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }
        return [root.appendingPathComponent("README.md"), root.appendingPathComponent("sql/README.md")]
            + names.sorted().map { docs.appendingPathComponent($0) }
    }

    /// Markdown link targets outside fenced code blocks and inline code spans.
    static func links(in text: String) -> [String] {
        var targets: [String] = []
        var inFence = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inFence.toggle()
                continue
            }
            if inFence { continue }
            // Drop inline code so `a](b)` inside backticks is not read as a link.
            let prose = line.split(separator: "`", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 0 }.map { String($0.element) }.joined(separator: " ")
            var rest = Substring(prose)
            while let open = rest.range(of: "](") {
                let after = rest[open.upperBound...]
                guard let close = after.firstIndex(of: ")") else { break }
                targets.append(String(after[..<close]))
                rest = after[close...]
            }
        }
        return targets
    }

    /// GitHub's heading anchors: lower case, punctuation dropped, spaces become hyphens.
    static func anchors(in text: String) -> Set<String> {
        var result: Set<String> = []
        var inFence = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("```") { inFence.toggle() }
            guard !inFence, line.hasPrefix("#") else { continue }
            let title = line.drop(while: { $0 == "#" }).trimmingCharacters(in: .whitespaces)
            let slug = title.lowercased().unicodeScalars.compactMap { scalar -> Character? in
                if CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-" {
                    return Character(scalar)
                }
                return scalar == " " ? "-" : nil
            }
            result.insert(String(slug))
        }
        return result
    }

    @Test("every relative link in README.md and docs/ resolves to a file, and to a heading where it names one")
    func relativeLinksResolve() throws {
        var broken: [String] = []
        var checked = 0
        for document in try Self.documents() {
            let text = try String(contentsOf: document, encoding: .utf8)
            let base = document.deletingLastPathComponent()
            for target in Self.links(in: text) {
                if target.contains("://") || target.hasPrefix("mailto:") { continue }
                checked += 1
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                let path = String(parts[0])
                let anchor = parts.count > 1 ? String(parts[1]) : nil
                let file = path.isEmpty ? document : base.appendingPathComponent(path).standardizedFileURL
                let name = document.path.replacingOccurrences(of: Self.root.path + "/", with: "")
                guard FileManager.default.fileExists(atPath: file.path) else {
                    broken.append("\(name): \(target) (no such file)")
                    continue
                }
                if let anchor, file.pathExtension == "md" {
                    let headings = Self.anchors(in: try String(contentsOf: file, encoding: .utf8))
                    if !headings.contains(anchor) { broken.append("\(name): \(target) (no such heading)") }
                }
            }
        }
        #expect(checked > 20, "the documents should link to each other; found \(checked) relative links")
        #expect(broken.isEmpty, "broken links:\n\(broken.joined(separator: "\n"))")
    }

    @Test("the README is a front door: at most 20 KB, no issue numbers in README.md or docs/")
    func readmeIsSmallAndUserFacing() throws {
        let readme = Self.root.appendingPathComponent("README.md")
        let size = try FileManager.default.attributesOfItem(atPath: readme.path)[.size] as? Int ?? 0
        #expect(size <= 20 * 1024, "README.md is \(size) bytes; move details into docs/")
        for document in try Self.documents() {
            let text = try String(contentsOf: document, encoding: .utf8)
            let issue = text.range(of: #"\b[Ii]ssues? #?[0-9]+"#, options: .regularExpression)
            #expect(issue == nil, "\(document.lastPathComponent) mentions \(issue.map { String(text[$0]) } ?? "")")
        }
    }
}
