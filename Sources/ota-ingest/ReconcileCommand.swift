import ArgumentParser
import Foundation
import OTAIngest

/// `ota-ingest reconcile`: measure drift between the OTA's state and the facts, and repair it.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Snapshot the OTA's authoritative state, compare it with the facts, and repair drift.",
        discussion: """
            Writes recon.snapshots (keys and compared fields, never booking bodies) and \
            recon.drift_metrics. WebHotelier availability and rates reuse the latest complete \
            `pull rates` read; the feeds are read only when none is younger than feed_interval_minutes. \
            Within snapshot_reuse_minutes of a scope's latest snapshot, that snapshot is compared again \
            (how a repair is verified). Exit status 4 when a threshold was breached and not repaired, 3 when \
            the compared reads had dead-lettered entries (their cells count as unreadable, never as drift). \
            --show-keys lists the keys behind the latest comparisons.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "The configured source to reconcile (default: every source).")
    var source: String?

    @Option(help: "Only this stream: reservations, availability, rates (WebHotelier) or inventory (a cursor feed).")
    var stream: String?

    @Option(help: "Only this property code.")
    var property: String?

    @Flag(help: "Land the OTA's values of breached scopes in staging (origin reconcile), transform, verify.")
    var repair = false

    @Flag(
        help: "Pin the snapshots this run compares as references: never pruned; the retraining feeds compare with them."
    )
    var pinReference = false

    @Flag(
        help:
            "List the keys behind the latest comparison of each scope (missing, extra, mismatched with both values, unreadable); reads only the warehouse."
    )
    var showKeys = false

    @Option(help: "With --show-keys: at most this many keys per scope.")
    var limit: Int = 50

    @OptionGroup var runOptions: RunOptions

    func run() async throws {
        if showKeys {
            print(
                try await ComparisonKeyListing.render(
                    databaseURL: try global.resolvedDatabaseURL(), source: source, stream: stream, property: property,
                    limit: limit))
            return
        }
        ProgressLine.standardError.enableOnTerminal()
        let config = try CommandInputs.config(global, for: "reconcile")
        let runner = ReconcileRunner(
            databaseURL: try global.resolvedDatabaseURL(), config: config, sourceName: source, stream: stream,
            property: property, repair: repair, pinReference: pinReference, clock: runOptions.clock,
            logFormat: runOptions.logFormat)
        let outcome = try await runner.run()
        print(outcome.summary)
        if outcome.status != .success { throw RunOutcome(status: outcome.status) }
    }
}
