import ArgumentParser
import OTAIngest

/// `ota-ingest status`: the morning look at the pipeline.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract:
            "Last runs, the last nightly's steps, watermarks, lag, dead letters, drift breaches, OpenTravel reservations waiting.",
        discussion: """
            The table fits 120 columns: timestamps to the second (UTC), durations and lags in human \
            units (8h 1m), the last nightly's steps in the order they run. --format json gives the same \
            sections as one JSON object with exact figures (the night's run id, timestamps to the \
            microsecond, seconds), for monitoring.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only this property code (watermarks, health, dead letters, breaches).")
    var property: String?

    @Option(help: "table or json.")
    var format: String = "table"

    func run() async throws {
        let openTravel = try global.loadConfig()?.sources.filter { $0.kind == .opentravel } ?? []
        guard format == "table" || format == "json" else {
            throw ConfigError("--format \(format) is unknown; fix: use table or json")
        }
        let text = try await global.withConnection { connection in
            format == "json"
                ? try await StatusReport.json(property: property, openTravel: openTravel, on: connection)
                : try await StatusReport.table(property: property, openTravel: openTravel, on: connection)
        }
        print(text)
    }
}
