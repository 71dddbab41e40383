import ArgumentParser
import Foundation
import OTAIngest
import PostgresClient

/// `ota-ingest dlq ...`: look at and retry the records in ops.dead_letters.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List and replay dead letters (records refused by validation or by PostgreSQL).",
        subcommands: [List.self, Replay.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A table of dead letters, newest first; raw bytes only with --show-raw.",
            discussion: """
                Dead letters can hold personal data (guest names and emails in bookings), so the table \
                never shows their bytes; --show-raw ID prints one record exactly as received.
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only this source.")
        var source: String?

        @Option(help: "Only this stream (reservations, availability, rates, inventory).")
        var stream: String?

        @Option(help: "At most this many rows.")
        var limit: Int = 50

        @Flag(help: "Include dead letters already replayed.")
        var all = false

        @Option(help: ArgumentHelp("Print this dead letter's raw bytes instead of the table.", valueName: "id"))
        var showRaw: Int64?

        func run() async throws {
            guard limit > 0 else { throw ConfigError("--limit must be positive") }
            try await global.withConnection { connection in
                if let id = showRaw {
                    guard let raw = try await DeadLetterQueue.raw(id: id, on: connection) else {
                        throw ConfigError("no dead letter \(id); fix: pick an id from `ota-ingest dlq list`")
                    }
                    FileHandle.standardOutput.write(Data(raw + [0x0A]))
                    return
                }
                let filter = DeadLetterQueue.Filter(source: source, stream: stream, includeReplayed: all)
                let (entries, total) = try await DeadLetterQueue.list(filter, limit: limit, on: connection)
                if entries.isEmpty {
                    print(all ? "no dead letters" : "no dead letters waiting for replay")
                    return
                }
                print(DeadLetterQueue.table(entries))
                print(
                    "\(entries.count) of \(total) \(all ? "" : "unreplayed ")dead letters; `dlq list --show-raw ID` prints one record (may hold personal data)"
                )
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-validate unreplayed dead letters with the current rules and land those that pass.",
            discussion: """
                A landed record gets replayed_at; one still refused gets attempts + 1, last_seen and \
                the current reason. The bytes never change, so a replay succeeds only after a fix: a \
                corrected parser or rule (a new release), or a corrected schema. A record that is itself \
                wrong stays dead: land a corrected copy with `ota-ingest load`, or, for a WebHotelier \
                booking, --refetch its current body from the OTA (needs --config with the source's \
                credentials). Pulled availability and rate feed entries replay with the room, rate, \
                currency and dates kept beside them. Exit status 3 when some stay refused (0 with \
                --allow-dead-letters).
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only this source.")
        var source: String?

        @Option(help: "Only this stream (reservations, availability, rates, inventory).")
        var stream: String?

        @Option(help: "Only this dead letter.")
        var id: Int64?

        @Flag(help: "Exit 0 even when dead letters stay refused.")
        var allowDeadLetters = false

        @Flag(
            help: "Reservations: fetch each booking's current body from its OTA and land that (needs --config).")
        var refetch = false

        @OptionGroup var runOptions: RunOptions

        func run() async throws {
            try runOptions.refuseNow(for: "dlq replay")
            var refetcher: BookingRefetcher?
            if refetch {
                guard let config = try global.loadConfig() else {
                    throw ConfigError(
                        "--refetch reads bookings from the OTA and needs its credentials; fix: pass --config or set OTA_INGEST_CONFIG"
                    )
                }
                refetcher = try BookingRefetcher(config: config, secrets: SecretResolver())
            }
            let replay = DeadLetterReplay(
                databaseURL: try global.resolvedDatabaseURL(),
                filter: DeadLetterQueue.Filter(source: source, stream: stream, id: id),
                allowDeadLetters: allowDeadLetters, logFormat: runOptions.logFormat, refetch: refetcher)
            let outcome = try await replay.run()
            print(outcome.summary)
            if outcome.status != .success { throw RunOutcome(status: outcome.status) }
        }
    }
}
