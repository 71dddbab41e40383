import ArgumentParser
import Foundation
import OTAIngest
import PostgresClient

/// `ota-ingest export FEED`: streams a feed as CSV or NDJSON.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Stream a feed (see --list) as CSV or NDJSON through COPY, in flat memory.",
        discussion: """
            --as-of TS exports the feed as the warehouse knew it at TS: versions valid at TS in OTA time, \
            counting only those loaded by TS. --out writes FILE.partial and renames it when complete, so a \
            reader never sees half an export. A summary line goes to stderr.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The feed to export (see --list).")
    var feed: String?

    @Option(
        name: .customLong("as-of"),
        help: "ISO-8601 time, or a date for its start (00:00 UTC); not in the future (feeds that take one).")
    var asOf: String?

    @Option(help: "csv (with a header) or ndjson (one JSON object a line).")
    var format: String = "csv"

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "FILE"))
    var out: String?

    @Option(help: "Only this property code.")
    var property: String?

    @Flag(help: "Name the feeds with their one-line descriptions.")
    var list = false

    func run() async throws {
        _ = try global.loadConfig()
        if list {
            let lines = try await global.withConnection { try await FeedListing.lines(on: $0) }
            for line in lines { print(line) }
            return
        }
        guard let feed else {
            throw ExportError("no feed named; fix: ota-ingest export FEED, with FEED from ota-ingest export --list")
        }
        guard let definition = FeedCatalog.feed(named: feed) else {
            throw ExportError(
                "unknown feed \(feed); fix: use one of \(FeedCatalog.feeds.map(\.name).joined(separator: ", ")) (ota-ingest export --list)"
            )
        }
        guard let exportFormat = ExportFormat(rawValue: format) else {
            throw ExportError("--format \(format) is unknown; fix: use csv or ndjson")
        }
        let asOfDate = try asOf.map(Self.asOfTime)
        let exporter = FeedExporter(feed: definition, format: exportFormat, asOf: asOfDate, property: property)
        let started = ContinuousClock.now
        let target = try ExportTarget(path: out)
        let outcome: FeedExporter.Outcome
        do {
            outcome = try await global.withConnection { try await exporter.export(on: $0, to: target.descriptor) }
            try target.commit()
        } catch {
            target.abandon()
            throw error
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        printError(
            "exported \(outcome.rows) rows of \(definition.name)"
                + (outcome.asOf.map { " as of \(Timestamps.format($0))" } ?? "")
                + " in \(String(format: "%.2f", seconds)) s; peak memory \(ProcessMemory.peakKilobytes() / 1024) MB"
        )
    }
}

extension ExportCommand {
    /// A time, or a date meaning its first instant in UTC (the summary line prints the time used).
    static func asOfTime(_ text: String) throws -> Date {
        if let time = Timestamps.parse(text) { return time }
        if text.count == 10, let date = CivilDate(text), let time = Timestamps.parse("\(date)T00:00:00Z") {
            return time
        }
        throw ExportError(
            "--as-of \(text) is neither an ISO-8601 time nor a date; fix: e.g. 2026-01-01T00:00:00Z or 2026-01-01")
    }
}

/// Standard output, or FILE.partial renamed to FILE once everything is written.
struct ExportTarget {
    let descriptor: Int32
    private let path: String?

    init(path: String?) throws {
        self.path = path
        guard let path else {
            descriptor = STDOUT_FILENO
            return
        }
        let fd = open(path + ".partial", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            // The command line was fine; the file system refused (exit 1, as for any write that fails).
            throw ExportError(
                "cannot write \(path).partial: \(String(cString: strerror(errno))); fix: create the folder or name a writable --out path",
                status: .failure)
        }
        descriptor = fd
    }

    func commit() throws {
        guard let path else { return }
        guard fsync(descriptor) == 0, close(descriptor) == 0, rename(path + ".partial", path) == 0 else {
            throw ExportError(
                "cannot finish \(path): \(String(cString: strerror(errno))); fix: check the disk", status: .failure)
        }
    }

    func abandon() {
        guard let path else { return }
        close(descriptor)
        unlink(path + ".partial")
    }
}
