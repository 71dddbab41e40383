import Foundation
import Logging
import OTAIngest
import Synchronization

/// Every line the receiver writes, in the tool's log format (`RunLog`: text, or
/// JSON lines with `--log-format json`): its own messages, its request log, and
/// what Hummingbird and ServiceLifecycle report through the loggers made here.
final class ReceiverLog: Sendable {
    let format: RunLog.Format
    private let write: (@Sendable (String) -> Void)?
    private let log: Mutex<RunLog>

    init(format: RunLog.Format, write: (@Sendable (String) -> Void)?) {
        self.format = format
        self.write = write
        log = Mutex(RunLog(format: format, runId: "", write: write))
    }

    /// From the start on, every line carries the receiver's run id.
    func started(runId: String) {
        log.withLock { $0 = RunLog(format: format, runId: runId, write: write) }
    }

    var run: RunLog { log.withLock { $0 } }

    /// A swift-log logger writing through this log, at `level` and above.
    func logger(label: String, level: Logger.Level = .notice) -> Logger {
        var logger = Logger(label: label) { _ in RunLogHandler(log: self) }
        logger.logLevel = level
        return logger
    }

    /// One line per answered request: method, path (never its query), status,
    /// duration, body bytes and the property where there is one; never bodies or credentials.
    func request(method: String, path: String, status: Int, duration: Duration, bytes: Int, property: String?) {
        // Tenths of a millisecond, rounded, by integer arithmetic: Foundation's String(format:)
        // was a tenth of the receiver's CPU with the rest of this line.
        let tenths = (duration.nanoseconds + 50_000) / 100_000
        let milliseconds = "\(tenths / 10).\(tenths % 10)"
        guard format == .text else {
            run.info(
                "\(method) \(path) \(status)", property: property,
                [
                    "method": method, "path": path, "status": String(status), "duration_ms": milliseconds,
                    "bytes": String(bytes),
                ])
            return
        }
        // The text line LineLogHandler writes, without swift-log's metadata dictionaries, which
        // cost more than the line on a path that runs on every request. Fields in key order.
        let fields = [
            (key: "bytes", value: String(bytes)), (key: "duration_ms", value: milliseconds),
            (key: "method", value: method), (key: "path", value: path), (key: "status", value: String(status)),
        ]
        LineLogHandler.deliver(
            LineLogHandler.textLine("info", "\(method) \(path) \(status)", property: property, fields: fields),
            write: write)
    }
}

/// Hands a library's swift-log messages to the receiver's current run log (whose
/// handler, `LineLogHandler`, writes every line of the tool).
struct RunLogHandler: LogHandler {
    let log: ReceiverLog
    var logLevel: Logger.Level = .notice
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        // The current run's logger (its run id set once the receiver started), at info at
        // least: this handler's level already decided whether the message shows.
        log.run.logger.log(
            level: max(level, .info), message, metadata: metadata.merging(extra ?? [:], uniquingKeysWith: { $1 }),
            source: source, file: file, function: function, line: line)
    }
}
