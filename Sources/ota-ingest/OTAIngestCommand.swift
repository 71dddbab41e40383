import ArgumentParser

/// The `ota-ingest` command: keeps a PostgreSQL warehouse in step with OTAs.
struct OTAIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ota-ingest",
        abstract: "Keeps a PostgreSQL warehouse of hotel rates, availability and reservations in step with OTAs.",
        discussion: """
            Exit codes: 0 success; 1 failure (database down, retries exhausted, SQL error); \
            2 usage or configuration error; 3 finished, but records went to ops.dead_letters; \
            4 reconcile found drift above a threshold and did not repair it.
            """,
        version: Version.text,
        subcommands: [
            MigrateCommand.self, PullCommand.self, LoadCommand.self, SeedCommand.self, TransformCommand.self,
            DLQCommand.self, PurgeCommand.self, EraseGuestCommand.self, ReconcileCommand.self, ServeCommand.self,
            ExportCommand.self, NightlyCommand.self, StatusCommand.self, SetupRolesCommand.self, DistributeCommand.self,
            WatchCommand.self, ReportCommand.self,
        ]
    )
}
