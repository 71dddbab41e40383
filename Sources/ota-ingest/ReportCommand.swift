import ArgumentParser
import Foundation
import OTAIngest

/// `ota-ingest report`: one self-contained HTML file for revenue managers.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Write an HTML report: booking pace, revenue and ADR, the rate calendar, drift, pipeline health, PSI.",
        discussion: """
            One HTML file with its charts drawn inline (SVG), no script and nothing fetched from the \
            network: it opens offline, mails as one attachment and prints. Every figure comes from the \
            documented feeds (feeds.booking_pace_as_of, feeds.rates_as_of, feeds.property_health, \
            feeds.psi_history) and tables (recon.drift_metrics, ops.runs); each chart is followed by \
            the numbers behind it. Without --property the pace and revenue are summed over every \
            property in the reporting currency, and the rate calendar shows the first property.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Where to write the report (report.html); - for standard output.")
    var out: String = "report.html"

    @Option(help: "Only this property code.")
    var property: String?

    @Option(name: .customLong("as-of"), help: "The report as the warehouse knew it at this time (default: now).")
    var asOf: String?

    @Option(help: "Stay dates ahead (and days of drift history) to show.")
    var days: Int = 90

    func validate() throws {
        guard (1...731).contains(days) else { throw ValidationError("--days must be between 1 and 731") }
    }

    func run() async throws {
        _ = try global.loadConfig()
        let time = try asOf.map(ExportCommand.asOfTime) ?? WallClock.system.now()
        let html = try await global.withConnection { connection in
            ReportPage.render(try await ReportData.read(asOf: time, property: property, days: days, on: connection))
        }
        if out == "-" {
            FileHandle.standardOutput.write(Data(html.utf8))
            return
        }
        let url = URL(fileURLWithPath: out)
        let partial = url.appendingPathExtension("partial")
        try Data(html.utf8).write(to: partial)
        // A reader never sees half a report: written aside, then renamed over the old one.
        guard rename(partial.path, url.path) == 0 else {
            throw ExportError(
                "cannot write \(url.path): \(String(cString: strerror(errno))); fix: pass an --out in a writable folder"
            )
        }
        printError("report: wrote \(url.path) (\(html.utf8.count / 1024) KiB)")
    }
}
