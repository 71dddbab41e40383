import ArgumentParser
import Foundation
import OTAIngest

/// `ota-ingest load ...`: backfill staging from files of historical records.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Backfill reservations, availability or rates from an NDJSON or JSON array file.",
        discussion: """
            The file is NDJSON (one record a line) or one JSON array, told apart by its first \
            non-space byte; --file - reads standard input. Records pass the pull jobs' validation; \
            each record's bytes are stored as received. The file lands in parts (50,000 records), \
            each recorded in ops.batches with its rows: rerunning a load that failed resumes its run \
            and skips the parts that committed. Invalid records go to ops.dead_letters and the load \
            goes on: exit status 3 (0 with --allow-dead-letters). Record shapes: see the README.
            """,
        subcommands: [Reservations.self, Availability.self, Rates.self]
    )

    /// Options every load shares.
    struct Options: ParsableArguments {
        @OptionGroup var global: GlobalOptions

        @Option(help: "The source the records came from (e.g. webhotelier); a configured one when a config is given.")
        var source: String

        @Option(help: ArgumentHelp("The file to load, or - for standard input.", valueName: "path"))
        var file: String

        @Flag(help: "Exit 0 even when records went to dead letters.")
        var allowDeadLetters = false

        @Flag(help: "Start a new run instead of resuming an unfinished load of the same file.")
        var newRun = false

        @OptionGroup var runOptions: RunOptions

        @Option(help: ArgumentHelp("Records per part (batch).", visibility: .hidden))
        var partRecords: Int = 50_000

        func execute(_ stream: SourceStream) async throws {
            ProgressLine.standardError.enableOnTerminal()
            try runOptions.refuseNow(for: "load")
            if let config = try global.loadConfig() {
                _ = try config.source(named: source)
            } else if source.isEmpty || !source.allSatisfy({ $0.isLetter || $0.isNumber || "_.-".contains($0) }) {
                throw ConfigError(
                    "--source \"\(source)\" is not a source name; fix: use letters, digits, '_', '.' or '-'")
            }
            guard partRecords > 0 else { throw ConfigError("--part-records must be positive") }
            let loader = BackfillLoader(
                databaseURL: try global.resolvedDatabaseURL(), sourceName: source, stream: stream,
                input: file == "-" ? .standardInput : .file(file), allowDeadLetters: allowDeadLetters,
                forceNewRun: newRun, logFormat: runOptions.logFormat,
                limits: RecordReader.Limits(partRecords: partRecords))
            let outcome = try await loader.run()
            print(outcome.summary)
            if outcome.status != .success { throw RunOutcome(status: outcome.status) }
        }
    }

    struct Reservations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Booking bodies (GET /reservation/{id}'s data) or PUSH notifications {id, type, data}.")

        @OptionGroup var options: Options

        func run() async throws { try await options.execute(.reservations) }
    }

    struct Availability: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Room x night records {property, room, date, allot, stopsell, minstay, maxstay, checkin, checkout}.")

        @OptionGroup var options: Options

        func run() async throws { try await options.execute(.availability) }
    }

    struct Rates: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Rate x night x occupancy records {property, rate_id, room, date, adults, children, price, currency, closeout, min_stay}."
        )

        @OptionGroup var options: Options

        func run() async throws { try await options.execute(.rates) }
    }
}
