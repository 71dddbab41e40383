import ArgumentParser
import OTAIngest

/// `ota-ingest purge`: drops old raw observations by load-date partition.
struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Drop raw availability and rate observations landed more than DAYS days ago.",
        discussion: """
            Drops whole load-date partitions of staging.availability_observations and \
            staging.rate_observations (never a DELETE). Facts keep their versions; feeds.*_last_seen and a \
            later --full-refresh only see what remains.
            """
    )

    @OptionGroup var global: GlobalOptions

    // Unconditional: "-1" is the option's (wrong) value, not another option, so the
    // answer is "at least 1", not "Missing value".
    @Option(
        name: .customLong("older-than"), parsing: .unconditional,
        help: ArgumentHelp("Age in days, at least 1.", valueName: "DAYS"))
    var olderThan: Int

    func validate() throws {
        guard olderThan >= 1 else {
            throw ValidationError(
                "--older-than \(olderThan): the age must be at least 1 day; fix: e.g. --older-than 400")
        }
    }

    func run() async throws {
        _ = try global.loadConfig()
        let dropped = try await global.withConnection { connection in
            try await Retention.purgeObservations(olderThanDays: olderThan, on: connection)
        }
        for name in dropped { print("dropped staging.\(name)") }
        print("purged \(dropped.count) partitions older than \(olderThan) days")
    }
}
