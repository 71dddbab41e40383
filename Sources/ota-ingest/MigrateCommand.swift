import ArgumentParser
import OTAIngest
import PostgresClient

/// `ota-ingest migrate`: brings the warehouse schema up to date.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations, then print the warehouse's schemas.",
        discussion: """
            Each migration file runs in its own transaction and is recorded with its checksum \
            in ops.schema_migrations. A changed, already-applied file is refused. Concurrent runs \
            are safe: the second waits for the first.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = try global.loadConfig()
        let migrator = try Migrator()
        try await global.withConnection { connection in
            let report = try await migrator.migrate(connection)
            if report.applied.isEmpty {
                print("schema up to date (\(report.alreadyApplied) migrations)")
            } else {
                for name in report.applied { print("applied \(name)") }
            }
            for name in report.feedsApplied { print("applied \(name)") }
            print(try await SchemaSummary.read(connection).rendered)
        }
    }
}
