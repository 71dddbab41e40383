import Foundation
import PostgresClient

/// Streams one feed through `COPY ... TO STDOUT` into a file descriptor, in
/// 1 MiB writes: memory stays flat whatever the feed's size.
public struct FeedExporter: Sendable {
    public var feed: FeedDefinition
    public var format: ExportFormat
    public var asOf: Date?
    public var property: String?

    public init(feed: FeedDefinition, format: ExportFormat, asOf: Date?, property: String?) {
        self.feed = feed
        self.format = format
        self.asOf = asOf
        self.property = property
    }

    public struct Outcome: Sendable {
        public var rows: Int
        public var asOf: Date?
    }

    /// Writes the feed to `descriptor`; returns the rows written.
    public func export(on connection: PostgresConnection, to descriptor: Int32) async throws -> Outcome {
        if asOf != nil, !feed.takesAsOf {
            throw ExportError(
                "feed \(feed.name) shows the present only and takes no --as-of; fix: drop --as-of, or export rates, availability, reservations or booking_pace as of a time"
            )
        }
        var effective: Date?
        if feed.takesAsOf {
            let now = try await connection.query("select now()")[0].decode(Date.self, at: 0)
            if let asOf, asOf > now {
                throw ExportError(
                    "--as-of \(Timestamps.format(asOf)) is in the future (the warehouse's clock says \(Timestamps.format(now))); fix: give a time up to now, or leave --as-of out for now"
                )
            }
            effective = asOf ?? now
        }
        _ = try await connection.query(
            "select set_config('ota_export.as_of', $1, false), set_config('ota_export.property', $2, false)",
            [effective.map(Timestamps.format) ?? "", property ?? ""])
        let statement = FeedCatalog.copyStatement(feed, format: format, filtered: property != nil)
        let sink = BufferedSink(descriptor: descriptor)
        let rows = try await connection.copyOut(statement) { chunk in try sink.append(chunk) }
        try sink.flush()
        return Outcome(rows: rows, asOf: effective)
    }
}

/// Gathers COPY's row-sized chunks into large writes: one memcpy per row into
/// a fixed 1 MiB buffer (no Array growth checks on the hot path), one write(2)
/// per MiB. Used only on the connection's thread during one copyOut, hence unchecked.
final class BufferedSink: @unchecked Sendable {
    private let descriptor: Int32
    private let capacity = 1 << 20
    private let buffer: UnsafeMutableRawPointer
    private var count = 0

    init(descriptor: Int32) {
        self.descriptor = descriptor
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    func append(_ chunk: UnsafeRawBufferPointer) throws {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        if count + chunk.count > capacity { try flush() }
        if chunk.count > capacity {
            try writeAll(base, chunk.count)
            return
        }
        (buffer + count).copyMemory(from: base, byteCount: chunk.count)
        count += chunk.count
    }

    func flush() throws {
        try writeAll(UnsafeRawPointer(buffer), count)
        count = 0
    }

    private func writeAll(_ start: UnsafeRawPointer, _ length: Int) throws {
        var offset = 0
        while offset < length {
            let written = write(descriptor, start + offset, length - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw ExportError(
                    "writing the export failed: \(String(cString: strerror(errno))); fix: check the disk or the pipe it goes to",
                    status: .failure)
            }
            offset += written
        }
    }
}

/// An export could not start or finish; one line naming the fix.
public struct ExportError: UserFacingError {
    public var message: String
    public var exitStatus: ExitStatus
    public init(_ message: String, status: ExitStatus = .usage) {
        self.message = message
        self.exitStatus = status
    }
    public var description: String { "export: " + message }
}
