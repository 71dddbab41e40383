import ArgumentParser
import OTAIngest

/// `ota-ingest purge`: drops old raw observations by load-date partition.
struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Drop raw availability and rate observations landed more than DAYS days ago.",
        discussion: """
            Drops whole load-date partitions of staging.availability_observations and \
            staging.rate_observations (never a DELETE). Pushed OpenTravel ARI observations of nights before \
            then, and older ones a later message replaced, are deleted, with the expanded messages left without \
            any; a value still in force stays. Facts keep their versions; feeds.*_last_seen and a later \
            --full-refresh only see what remains.
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
        let (dropped, ari) = try await global.withConnection { connection in
            (
                try await Retention.purgeObservations(olderThanDays: olderThan, on: connection),
                try await Retention.purgeARI(olderThanDays: olderThan, on: connection)
            )
        }
        for name in dropped { print("dropped staging.\(name)") }
        print("purged \(dropped.count) partitions older than \(olderThan) days")
        print(
            "purged \(ari.observations) OpenTravel ARI observations and \(ari.messages) messages older than \(olderThan) days (values still in force are kept)"
        )
    }
}
