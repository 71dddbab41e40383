import Foundation

/// Log lines on stderr, as text for people or JSON lines for collectors, each
/// carrying the run id (and the property where there is one) as correlation ids;
/// written through the progress line, which clears itself first and keeps lines whole.
/// Never given secrets: callers pass codes and counts, not credentials.
public final class RunLog: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    private let format: Format
    private let runId: String
    private let write: (@Sendable (String) -> Void)?

    /// `write` receives each line (without its newline) instead of stderr, e.g. to keep an
    /// in-process server's lines out of a test's output.
    public init(format: Format, runId: String, write: (@Sendable (String) -> Void)? = nil) {
        self.format = format
        self.runId = runId
        self.write = write
    }

    public func info(_ message: String, property: String? = nil, _ fields: [String: String] = [:]) {
        emit("info", message, property, fields)
    }

    public func warning(_ message: String, property: String? = nil, _ fields: [String: String] = [:]) {
        emit("warning", message, property, fields)
    }

    public func error(_ message: String, property: String? = nil, _ fields: [String: String] = [:]) {
        emit("error", message, property, fields)
    }

    private func emit(_ level: String, _ message: String, _ property: String?, _ fields: [String: String]) {
        let line: String
        switch format {
        case .json:
            var object: [String: String] = fields
            object["ts"] = Timestamps.format(WallClock.systemNow())
            object["level"] = level
            object["run_id"] = runId
            object["msg"] = message
            if let property { object["property"] = property }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        case .text:
            var text = "[\(level)] "
            if let property { text += "\(property): " }
            text += message
            for key in fields.keys.sorted() { text += " \(key)=\(fields[key]!)" }
            line = text
        }
        if let write {
            write(line)
            return
        }
        ProgressLine.standardError.write(line + "\n")
    }
}
