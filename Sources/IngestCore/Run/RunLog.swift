import Foundation
import Logging

/// The tool's log: swift-log, with every line as text for people or a JSON line for
/// collectors (`LineLogHandler`), carrying the run id (and the property where there is
/// one) as correlation ids in its metadata. Never given secrets: callers pass codes and
/// counts, not credentials. Every module logs through it, libraries included (`logger`).
public final class RunLog: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    /// The swift-log logger behind this log; its metadata holds `run_id`.
    public let logger: Logger

    /// `write` receives each line (without its newline) instead of stderr, e.g. to keep an
    /// in-process server's lines out of a test's output.
    public init(format: Format, runId: String, write: (@Sendable (String) -> Void)? = nil) {
        var logger = Logger(label: "ota-ingest") { _ in LineLogHandler(format: format, write: write) }
        logger.logLevel = .info
        logger[metadataKey: LineLogHandler.runIdKey] = .string(runId)
        self.logger = logger
    }

    public func info(_ message: String, property: String? = nil, _ fields: [String: String] = [:]) {
        logger.info("\(message)", metadata: Self.metadata(property, fields))
    }

    public func warning(_ message: String, property: String? = nil, _ fields: [String: String] = [:]) {
        logger.warning("\(message)", metadata: Self.metadata(property, fields))
    }

    public func error(_ message: String, property: String? = nil, _ fields: [String: String] = [:]) {
        logger.error("\(message)", metadata: Self.metadata(property, fields))
    }

    private static func metadata(_ property: String?, _ fields: [String: String]) -> Logger.Metadata {
        var metadata = fields.mapValues { Logger.MetadataValue.string($0) }
        if let property { metadata[LineLogHandler.propertyKey] = .string(property) }
        return metadata
    }
}

/// Renders swift-log messages as the tool's lines: `[warning] HTL001: message key=value`,
/// or `{"level":"warning","msg":"message","property":"HTL001","run_id":"...","ts":"..."}`;
/// written through the progress line (which clears itself first and keeps lines whole)
/// unless a `write` closure takes them.
public struct LineLogHandler: LogHandler {
    static let runIdKey = "run_id"
    static let propertyKey = "property"

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let format: RunLog.Format
    let write: (@Sendable (String) -> Void)?

    public init(format: RunLog.Format, write: (@Sendable (String) -> Void)? = nil) {
        self.format = format
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        var fields: [String: String] = [:]
        for (key, value) in metadata.merging(extra ?? [:], uniquingKeysWith: { $1 }) { fields[key] = "\(value)" }
        let runId = fields.removeValue(forKey: Self.runIdKey) ?? ""
        let property = fields.removeValue(forKey: Self.propertyKey)
        emit(Self.name(level), message.description, runId, property, fields)
    }

    /// The three levels the tool's lines show.
    static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug, .info, .notice: "info"
        case .warning: "warning"
        case .error, .critical: "error"
        }
    }

    private func emit(
        _ level: String, _ message: String, _ runId: String, _ property: String?, _ fields: [String: String]
    ) {
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
            line = Self.textLine(level, message, property: property, fields: fields.sorted { $0.key < $1.key })
        }
        Self.deliver(line, write: write)
    }

    /// A text line: `[level] PROPERTY: message key=value ...`, the fields in the order given
    /// (the handler gives them by key). Public for a caller on a hot path that builds its
    /// fields in key order itself (the receiver's request log), without swift-log's metadata.
    public static func textLine(
        _ level: String, _ message: String, property: String?, fields: some Sequence<(key: String, value: String)>
    ) -> String {
        var text = "[\(level)] "
        if let property { text += "\(property): " }
        text += message
        for (key, value) in fields { text += " \(key)=\(value)" }
        return text
    }

    /// Writes a finished line where the handler writes: `write` when it has one, else the
    /// progress line on standard error.
    public static func deliver(_ line: String, write: (@Sendable (String) -> Void)?) {
        if let write {
            write(line)
            return
        }
        ProgressLine.standardError.write(line + "\n")
    }
}
