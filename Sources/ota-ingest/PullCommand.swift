import ArgumentParser
import Foundation
import OTAIngest

/// `ota-ingest pull ...`: land OTA data raw in staging, exactly once.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull reservations, availability and rates, or a cursor feed, into staging.",
        discussion: """
            Each run is recorded in ops.runs. A run that died or failed within 12 hours is resumed \
            under its id, so batches it landed are not landed again (--new-run starts afresh). \
            Exit status 3 when records went to ops.dead_letters (0 with --allow-dead-letters).
            """,
        subcommands: [Reservations.self, Rates.self, Inventory.self]
    )

    /// Options every pull shares.
    struct Options: ParsableArguments {
        @OptionGroup var global: GlobalOptions

        @Option(help: "The configured source to pull (default: the only one of the right kind).")
        var source: String?

        @Flag(help: "Exit 0 even when records went to dead letters.")
        var allowDeadLetters = false

        @Flag(help: "Start a new run instead of resuming an unfinished one.")
        var newRun = false

        @OptionGroup var runOptions: RunOptions

        func runner() throws -> PullRunner {
            let config = try CommandInputs.config(global, for: "pull")
            return PullRunner(
                databaseURL: try global.resolvedDatabaseURL(), config: config, sourceName: source,
                clock: runOptions.clock,
                logFormat: runOptions.logFormat, allowDeadLetters: allowDeadLetters, forceNewRun: newRun)
        }

        func execute(_ job: PullRunner.Job) async throws {
            ProgressLine.standardError.enableOnTerminal()
            let runner = try runner()
            let outcome = try await runner.run(job)
            print(outcome.summary)
            if outcome.status != .success { throw RunOutcome(status: outcome.status) }
        }
    }

    struct Reservations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "WebHotelier bookings: list pending, fetch, land, commit, then mark synced.",
            discussion: """
                With --since, re-reads bookings modified since that date through the paginated search \
                (for what pushes or pulls missed) and marks nothing synced.
                """)

        @OptionGroup var options: Options

        @Option(help: "Recover bookings modified since this date (YYYY-MM-DD).")
        var since: String?

        func run() async throws {
            var date: CivilDate?
            if let since {
                guard let parsed = CivilDate(since) else {
                    throw ConfigError("--since \(since) is not a date; fix: use YYYY-MM-DD")
                }
                date = parsed
            }
            try await options.execute(.reservations(since: date))
        }
    }

    struct Rates: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "WebHotelier availability and rate feeds over the stay-date window, chunk by chunk.")

        @OptionGroup var options: Options

        @Option(help: "Which feeds: availability, rates, or both (default).")
        var only: String?

        func run() async throws {
            var streams = InventoryPull.streams
            if let only {
                guard let stream = SourceStream(rawValue: only), streams.contains(stream) else {
                    throw ConfigError("--only \(only) is unknown; fix: use availability or rates")
                }
                streams = [stream]
            }
            try await options.execute(.feeds(streams))
        }
    }

    struct Inventory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A cursor feed (GET /inventory with updated_after and cursor), incrementally.")

        @OptionGroup var options: Options

        func run() async throws {
            try await options.execute(.inventory)
        }
    }
}
