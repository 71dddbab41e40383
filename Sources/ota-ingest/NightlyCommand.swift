import ArgumentParser
import Foundation
import OTAIngest

/// `ota-ingest nightly`: the whole batch, for cron or a systemd timer.
struct NightlyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nightly",
        abstract:
            "Migrate, pull every source, transform, reconcile, weekly checks, retention, guest data aging: one resumable night.",
        discussion: """
            One ops.runs row for the night and one per step. A second nightly while one runs exits 0 at once. \
            A rerun within 12 hours of a failed or killed night resumes it: finished steps are not repeated \
            and pulls resume their own runs. A failing source does not stop the others. Exit status, worst \
            first: 1 a step failed, 4 drift breached and not repaired, 3 dead letters, 0.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Reconcile without repairing breached scopes.")
    var noRepair = false

    @Option(help: "A step still running after this many minutes fails; the night goes on.")
    var stepDeadlineMinutes: Double = 120

    @Option(help: "No step starts, and a running one is cut short, this many minutes after the night began.")
    var nightDeadlineMinutes: Double = 360

    @Option(help: "Drop raw observations loaded more than this many days ago.")
    var retainObservationsDays = 90

    @Option(
        help: "Delete ops.runs, batches, call_log, pipeline_counts, webhook_receipts and drift metrics older than this."
    )
    var retainLedgersDays = 90

    @Option(
        help: ArgumentHelp(
            "Erase guest personal data of bookings that departed more than this many days ago (default: the config's [retention] guest_data_days, else 400).",
            valueName: "days"))
    var retainGuestDataDays: Int?

    @Option(help: "Run the full data-quality checks when they last ran more than this many days ago.")
    var fullChecksEveryDays = 7

    @Option(
        help: ArgumentHelp("Write the night's figures here in Prometheus text format (atomically).", valueName: "PATH"))
    var metricsFile: String?

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        guard stepDeadlineMinutes > 0, nightDeadlineMinutes > 0 else {
            throw ValidationError("deadlines must be positive numbers of minutes")
        }
        guard retainObservationsDays >= 1, retainLedgersDays >= 1, fullChecksEveryDays >= 1,
            (retainGuestDataDays ?? 1) >= 1
        else {
            throw ValidationError("retention ages and --full-checks-every-days must be at least 1")
        }
    }

    func run() async throws {
        ProgressLine.standardError.enableOnTerminal()
        let config = try CommandInputs.config(global, for: "nightly")
        var settings = NightlySettings()
        settings.repair = !noRepair
        settings.stepDeadline = .milliseconds(Int64(stepDeadlineMinutes * 60_000))
        settings.nightDeadline = .milliseconds(Int64(nightDeadlineMinutes * 60_000))
        settings.observationRetentionDays = retainObservationsDays
        settings.ledgerRetentionDays = retainLedgersDays
        settings.guestDataRetentionDays = retainGuestDataDays ?? config.retention.guestDataDays
        settings.fullChecksEveryDays = fullChecksEveryDays
        let runner = NightlyRunner(
            databaseURL: try global.resolvedDatabaseURL(), config: config, settings: settings, clock: runOptions.clock,
            logFormat: runOptions.logFormat)
        let outcome: NightlyRunner.Outcome
        do {
            outcome = try await runner.run()
        } catch let error as any UserFacingError {
            throw error
        } catch {
            throw NightlyFailure(reason: "\(error)")
        }
        print(outcome.summary)
        if let metricsFile, outcome.nightRunID != nil {
            try NightlyReport.writeAtomically(outcome.metrics, to: metricsFile)
        }
        if outcome.status != .success { throw RunOutcome(status: outcome.status) }
    }
}

/// The night could not be recorded at all (e.g. the database went away mid-night).
struct NightlyFailure: UserFacingError {
    var reason: String
    var exitStatus: ExitStatus { .failure }
    var description: String {
        "nightly: \(reason); fix: check the database, then rerun ota-ingest nightly (it resumes where it stopped)"
    }
}
