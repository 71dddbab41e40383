import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

@Suite struct MigrateTests {
    @Test func migrateAppliesEverythingOnceAndPrintsTheSchemas() async throws {
        try await TestDatabase.with { db in
            let first = try await CommandLineRunner.run(["migrate", "--database-url", db.url])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("applied 0001_schemas.sql"))
            for schema in ["staging", "dims", "facts", "recon", "feeds", "ops"] {
                #expect(first.stdout.contains(schema))
            }
            let second = try await CommandLineRunner.run(["migrate"], environment: ["DATABASE_URL": db.url])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout.contains("schema up to date"))
            let conn = try await db.connect()
            let count = try await conn.query("select count(*)::int from ops.schema_migrations")[0].decode(
                Int.self, at: 0)
            #expect(count == (try Migrator().available.count))
            let runs = try await conn.query("select to_regclass('ops.runs') is not null")[0].decode(Bool.self, at: 0)
            #expect(runs)
            await conn.close()
        }
    }

    @Test func aChangedAppliedMigrationIsRefusedByName() async throws {
        try await TestDatabase.with { db in
            #expect(try await CommandLineRunner.run(["migrate", "--database-url", db.url]).status == 0)
            let conn = try await db.connect()
            try await conn.execute("update ops.schema_migrations set checksum = 'tampered' where version = 2")
            await conn.close()
            let outcome = try await CommandLineRunner.run(["migrate", "--database-url", db.url])
            #expect(outcome.status == 1)
            #expect(outcome.stderr.contains("0002_run_ledger.sql was changed after it was applied"))
            #expect(outcome.stderr.contains("fix:"))
            #expect(outcome.stderr.split(separator: "\n").count == 1, "one line: \(outcome.stderr)")
        }
    }

    @Test func concurrentMigrationsAreSafe() async throws {
        try await TestDatabase.with { db in
            let outcomes = try await withThrowingTaskGroup(of: CommandLineRunner.Outcome.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await CommandLineRunner.run(["migrate", "--database-url", db.url]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for outcome in outcomes { #expect(outcome.status == 0, "\(outcome.stderr)") }
            let applied = outcomes.map { $0.stdout.components(separatedBy: "applied 0001_schemas.sql").count - 1 }
            #expect(applied.reduce(0, +) == 1, "exactly one process applies each migration")
            let conn = try await db.connect()
            let rows = try await conn.query(
                "select count(*)::int, count(distinct version)::int from ops.schema_migrations")
            #expect(try rows[0].decode(Int.self, at: 0) == rows[0].decode(Int.self, at: 1))
            await conn.close()
        }
    }

    /// An upgrade whose changed feed file drops a function that a later feed of the older
    /// release still uses: the later feeds are applied again in the same transaction, so
    /// migrate succeeds and every feed is the current definition.
    @Test func aChangedFeedIsAppliedWithTheFeedsAfterItThatDependedOnItsOldForm() async throws {
        try await TestDatabase.with { db in
            #expect(try await CommandLineRunner.run(["migrate", "--database-url", db.url]).status == 0)
            let conn = try await db.connect()
            // The older release: feeds.psi_history called feeds.snapshot_values, and
            // 40_retraining_signals.sql has changed since.
            try await conn.executeScript(
                """
                drop view feeds.psi_history;
                create view feeds.psi_history as
                select s.snapshot_id, feeds.snapshot_values(s.snapshot_id, s.stream) as snapshot_values
                from recon.snapshots s;
                update ops.feed_definitions set checksum = 'older' where name = '40_retraining_signals.sql';
                """)
            let outcome = try await CommandLineRunner.run(["migrate", "--database-url", db.url])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("applied feeds/40_retraining_signals.sql"), "\(outcome.stdout)")
            #expect(outcome.stdout.contains("applied feeds/45_psi_history.sql"), "\(outcome.stdout)")
            // The current psi_history: its own columns, and no longer built on the function.
            #expect(
                try await conn.query(
                    "select count(*)::int from information_schema.columns where table_schema = 'feeds' and table_name = 'psi_history' and column_name = 'reference_snapshot_id'"
                )[0].decode(Int.self, at: 0) == 1)
            await conn.close()
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "create table public.first_ok (id int);\n".write(
            to: dir.appendingPathComponent("0001_first.sql"), atomically: true, encoding: .utf8)
        try "create table public.half_done (id int);\nselect * from no_such_table;\n".write(
            to: dir.appendingPathComponent("0002_broken.sql"), atomically: true, encoding: .utf8)
        try await TestDatabase.withConnection { conn in
            let migrator = try Migrator(directory: dir)
            let error = await #expect(throws: MigrationError.self) { try await migrator.migrate(conn) }
            #expect(error?.message.contains("0002_broken.sql failed and was rolled back") == true)
            #expect(error?.message.contains("42P01") == true)
            let tables = try await conn.query(
                "select to_regclass('public.first_ok') is not null, to_regclass('public.half_done') is not null")
            #expect(try tables[0].decode(Bool.self, at: 0), "the good migration before it stays applied")
            #expect(try !tables[0].decode(Bool.self, at: 1), "nothing of the failing file remains")
            let versions = try await conn.query("select version from ops.schema_migrations order by 1")
            #expect(try versions.map { try $0.decode(Int.self, at: 0) } == [1])
        }
    }

    @Test func anInstalledBinaryFindsItsSQLFromAnyDirectory() async throws {
        // Install: copy the binary alone elsewhere (its SQL is compiled in), then run it from /.
        let install = FileManager.default.temporaryDirectory.appendingPathComponent("install-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: install, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: install) }
        try FileManager.default.copyItem(
            at: CommandLineRunner.binDirectory.appendingPathComponent("ota-ingest"),
            to: install.appendingPathComponent("ota-ingest"))
        try await TestDatabase.with { db in
            let outcome = try await CommandLineRunner.run(
                ["migrate", "--database-url", db.url], workingDirectory: URL(fileURLWithPath: "/"),
                executableDirectory: install)
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("applied 0004_ops_loading.sql"))
        }
    }

    @Test func badInputGetsOneLineAndTheDocumentedCode() async throws {
        let down = try await CommandLineRunner.run([
            "migrate", "--database-url", "postgresql://nobody:pw0rd@127.0.0.1:1/x",
        ])
        #expect(down.status == 1)
        #expect(down.stderr.contains("127.0.0.1:1/x"))
        #expect(!down.stderr.contains("pw0rd"), "a password in the URL must never be printed")
        #expect(down.stderr.contains("fix:"))

        let malformed = try await CommandLineRunner.run(["migrate", "--database-url", "not a url"])
        #expect(malformed.status == 2)

        let none = try await CommandLineRunner.run(["migrate"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("DATABASE_URL"))

        let missingConfig = try await CommandLineRunner.run(["migrate", "--config", "/nonexistent/ota.toml"])
        #expect(missingConfig.status == 2)
        #expect(missingConfig.stderr.contains("/nonexistent/ota.toml"))

        let unknownFlag = try await CommandLineRunner.run(["migrate", "--bogus"])
        #expect(unknownFlag.status == 2)

        let help = try await CommandLineRunner.run(["migrate", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--database-url"))
    }

    @Test func unknownConfigKeyIsAUsageError() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ota-\(UUID().uuidString).toml")
        try
            "[sources.webhotelier]\nkind = \"webhotelier\"\nbase_url = \"https://x.example\"\ncredentials_dir = \"/x\"\nconcurency = 2\n"
            .write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let outcome = try await CommandLineRunner.run([
            "migrate", "--config", file.path, "--database-url", "postgresql://x@127.0.0.1:1/x",
        ])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("unknown key sources.webhotelier.concurency"))
    }
}
