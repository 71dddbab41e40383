import Foundation

/// Building request URLs and checking response bodies, shared by every connector.
enum QueryString {
    /// `base?name=value&...` with each value percent-encoded (RFC 3986 unreserved kept).
    static func url(_ base: String, _ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return base }
        let unreserved = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        return base + "?"
            + query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: unreserved) ?? $0.1)" }
            .joined(separator: "&")
    }
}

extension JSONScanner {
    /// Whether `body` is one whole JSON value: a body cut short by a reset or a
    /// truncating proxy is not, and is retried rather than parsed.
    static func isComplete(_ body: [UInt8]) -> Bool {
        body.withUnsafeBufferPointer { buffer in
            (try? JSONScanner(buffer).value(in: 0..<buffer.count)) != nil
        }
    }
}
