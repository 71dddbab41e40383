import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// The whole pipeline on a three-node Citus cluster (a coordinator and two workers on
/// loopback, started here) beside a single server fed by the same sandbox world: the same
/// facts, feeds and drift metrics (invariant 11), a warehouse that is really distributed,
/// and crash trials. Run by `make test-citus` (OTA_TEST_CITUS=1), never by `make test`.
@Suite("CitusTests", .enabled(if: ProcessInfo.processInfo.environment["OTA_TEST_CITUS"] == "1"), .serialized)
struct CitusTests {
    /// Shards per distributed table: two per worker keeps the cluster quick to build and
    /// still spreads every table over both workers.
    static let shardCount = 4

    /// Two properties, a few bookings, silent changes at the OTA (drift only a
    /// reconcile sees, repaired) and server errors on 3% of calls (retried).
    static func world(_ c: inout SandboxConfiguration) {
        c.propertyCount = 2
        c.initialBookingsPerProperty = 4
        c.minimumPendingIntervalMinutes = 0
        c.faults.serverErrorRate = 0.03
        c.faults.silentChangeRate = 0.05
    }

    // MARK: - One warehouse, fed by one sandbox

    /// A sandbox of the test world and a migrated (and, on Citus, distributed and seeded) warehouse.
    struct Warehouse {
        let server: SandboxServer
        let url: String
        let harness: PullHarness

        var environment: [String: String] { harness.environment }

        func run(_ arguments: [String]) async throws -> CommandLineRunner.Outcome {
            try await CommandLineRunner.run(
                arguments + ["--database-url", url], environment: environment)
        }

        func nightly(_ config: URL) async throws -> CommandLineRunner.Outcome {
            try await run(["nightly", "--config", config.path, "--now", Timestamps.format(server.now)])
        }
    }

    static func warehouse(
        url: String, distributed: Bool, world: (inout SandboxConfiguration) -> Void = CitusTests.world
    ) async throws -> Warehouse {
        var configuration = SandboxConfiguration()
        world(&configuration)
        let server = try SandboxServer(configuration: configuration)
        _ = try await server.start()
        let connection = try await PostgresConnection.connect(url)
        _ = try await Migrator().migrate(connection)
        await connection.close()
        let harness = PullHarness(server: server, db: TestDatabase(name: "ota", url: url))
        let w = Warehouse(server: server, url: url, harness: harness)
        if distributed {
            let outcome = try await w.run(["distribute", "--shard-count", "\(shardCount)"])
            #expect(outcome.status == 0, "distribute: \(outcome.stdout) \(outcome.stderr)")
        }
        let seed = try await PostgresConnection.connect(url)
        _ = try await SeedLoader().load(
            from: WarehouseFixture.repositoryRoot.appendingPathComponent("seeds"), into: seed)
        await seed.close()
        return w
    }

    /// Two nights of the world, a nightly after each (pulls with faults, transform,
    /// reconcile with repair, checks, retention, aging).
    static func twoNights(_ w: Warehouse) async throws {
        let config = try NightlyTests.config(w.harness)
        for night in 1...2 {
            w.server.advance(minutes: 1440)
            let outcome = try await w.nightly(config)
            #expect([0, 3, 4].contains(outcome.status), "night \(night): \(outcome.stdout) \(outcome.stderr)")
        }
    }

    // MARK: - Fingerprints

    /// Every fact table, the drift metrics and every feed, without load times, ids and
    /// run names (which differ between any two warehouses); sorted rows per table. Without
    /// `exports`, staging and the fact tables only.
    static func fingerprint(_ w: Warehouse, exports: Bool = true) async throws -> [String: [String]] {
        let h = w.harness
        var print = try await NightlyTests.fingerprint(h)
        print["nights"] = nil
        print["facts.reservation_nights"] = try await h.strings(
            """
            select concat_ws('|', property_code, confirmation_id, source, valid_from, content_hash, room_no,
                             business_date, valid_to, status, room_code, rate_id, channel_code, adults, children,
                             currency, revenue_gross, revenue_net, revenue_gross_rc, booked_date, version_date)
            from facts.reservation_nights order by 1
            """)
        print["facts.reservation_transactions"] = try await h.strings(
            """
            select concat_ws('|', property_code, confirmation_id, ota_time, content_hash, currency, total_gross)
            from facts.reservation_transactions order by 1
            """)
        print["facts.rates.all"] = try await h.strings(
            "select concat_ws('|', source, stream, origin, withdrawn, version, row_hash) || ' ' || property_code || rate_id || stay_date || valid_from from facts.rates order by 1"
        )
        guard exports else { return print }
        print["recon.drift_metrics"] = try await h.strings(
            """
            select concat_ws('|', source, stream, property_code, metric, kind, value, threshold, breached, after_repair)
            from recon.drift_metrics
            -- Event lags are measured to the wall-clock landing time: never equal in two warehouses.
            -- and the HTTP requests depend on which calls the sandbox's random faults hit.
            where metric not like 'health.event_lag%' and metric not in ('health.requests', 'health.retry_saturation')
            order by 1
            """)
        let asOf = Timestamps.format(Date())
        for feed in FeedCatalog.feeds {
            var arguments = ["export", feed.name, "--format", "ndjson"]
            if feed.takesAsOf { arguments += ["--as-of", asOf] }
            let outcome = try await w.run(arguments)
            #expect(outcome.status == 0, "export \(feed.name): \(outcome.stderr)")
            print["feed " + feed.name] = try await stableLines(outcome.stdout, on: h)
        }
        return print
    }

    /// An NDJSON export's lines without the fields that name when or in which run a row was
    /// loaded: jsonb drops them and prints the rest in one canonical order.
    static func stableLines(_ ndjson: String, on h: PullHarness) async throws -> [String] {
        let volatile = [
            "loaded_at", "last_loaded_at", "compared_at", "run_id", "snapshot_id", "staging_event_id",
            "last_run_at", "last_success_at", "checked_at", "promoted_at", "last_pull_at", "last_transform_at",
            "last_reconcile_at", "as_of",
            // Salted with the warehouse's own random salt; an age measured from the wall clock.
            "guest_hash", "age",
        ]
        // One statement for the whole export: jsonb drops the fields and prints the rest canonically.
        return try await h.strings(
            """
            select coalesce((select jsonb_object_agg(key, value) from jsonb_each(line::jsonb)
                             where not key = any(string_to_array($2, ','))
                               and key !~ '(_at|_seconds|_ms|_age.*)$'), '{}')::text
            from regexp_split_to_table($1, '\\n') as line
            where line <> ''
            order by 1
            """, [ndjson, volatile.joined(separator: ",")])
    }

    // MARK: - The same warehouse

    @Test(
        "two nightlies (pulls with faults, transform, reconcile with repair, exports) on three Citus nodes give the facts, feeds and drift metrics of one server; the warehouse is really distributed"
    )
    func sameWarehouseDistributed() async throws {
        let single = try await TestDatabase.create()
        let one = try await Self.warehouse(url: single.url, distributed: false)
        try await Self.twoNights(one)
        let expected = try await Self.fingerprint(one)
        await one.server.stop()
        try await single.drop()
        #expect((expected["rates"]?.count ?? 0) > 0 && (expected["facts.reservations"]?.count ?? 0) > 0)
        #expect((expected["recon.drift_metrics"]?.count ?? 0) > 0)

        try await CitusCluster.with { cluster in
            let citus = try await Self.warehouse(url: cluster.url, distributed: true)
            try await Self.twoNights(citus)
            let actual = try await Self.fingerprint(citus)
            expectSameStaging(actual, expected)
            try await Self.expectDistributed(cluster, citus)
            await citus.server.stop()
        }
    }

    /// Every table of the layout in Citus metadata as placed, the distributed ones in one
    /// colocation group with shards and rows on both workers, and a transform statement
    /// planned as a distributed query.
    static func expectDistributed(_ cluster: CitusCluster, _ w: Warehouse) async throws {
        let c = try await PostgresConnection.connect(cluster.url)
        let layout = try await Distribution().layout(c)
        #expect(layout.count >= 30)
        for entry in layout {
            let rows = try await c.query(
                "select citus_table_type, colocation_id::text from citus_tables where table_name = $1::regclass",
                [entry.table])
            if entry.placement == .local {
                #expect(rows.isEmpty, "\(entry.table) should stay a plain table on the coordinator")
                continue
            }
            #expect(rows.count == 1, "\(entry.table) is not in Citus metadata")
            guard let row = rows.first else { continue }
            #expect(try row.decode(String.self, at: 0) == entry.placement.rawValue, "\(entry.table)")
        }
        let groups = try await c.query(
            """
            select count(distinct p.colocationid)::integer
            from pg_dist_partition p where p.partmethod = 'h'
            """)
        #expect(try groups[0].decode(Int.self, at: 0) == 1, "distributed tables in more than one colocation group")
        let workerPorts = cluster.workers.map(\.port).sorted()
        for table in layout.filter({ $0.placement == .distributed }).map(\.table) {
            let ports = try await c.query(
                "select distinct nodeport from citus_shards where table_name = $1::regclass order by 1", [table]
            ).map { try $0.decode(Int.self, at: 0) }
            #expect(ports == workerPorts, "\(table) has shards on \(ports), the workers are \(workerPorts)")
        }
        // Rows on both workers: each worker counts the rows of its own shards (names from the metadata).
        for table in ["staging.rate_observations", "facts.rates", "facts.availability", "facts.reservations"] {
            var total = 0
            for worker in cluster.workers {
                let shards = try await c.query(
                    "select shard_name from citus_shards where table_name = $1::regclass and nodeport = $2",
                    [table, worker.port]
                ).map { try $0.decode(String.self, at: 0) }
                let direct = try await PostgresConnection.connect(CitusCluster.url(worker))
                var rows = 0
                for shard in shards {
                    rows += try await direct.query("select count(*)::integer from \(shard)")[0].decode(Int.self, at: 0)
                }
                await direct.close()
                #expect(rows > 0, "no rows of \(table) on worker \(worker.port)")
                total += rows
            }
            let all = try await c.query("select count(*)::integer from \(table)")[0].decode(Int.self, at: 0)
            #expect(total == all, "\(table): \(total) rows in the workers' shards, \(all) through the coordinator")
        }
        // A promotion statement: the join of the batch with the current rates runs on every shard.
        let plan = try await c.query(
            """
            explain select count(*) from facts.rates c join staging.rate_observations b
              on (c.property_code, c.rate_id, c.room_code, c.stay_date, c.adults, c.children, c.channel, c.source)
               = (b.property_code, b.rate_id, b.room_code, b.stay_date, b.adults, b.children, b.channel, b.source)
            where c.valid_to is null
            """
        ).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
        #expect(plan.contains("Custom Scan (Citus Adaptive)"), "\(plan)")
        #expect(plan.contains("Task Count: \(shardCount)"), "\(plan)")
        await c.close()
    }

    // MARK: - Distribute and migrate

    @Test("distribute on a server without Citus exits 2 with one line naming the reason and the fix")
    func distributeWithoutCitus() async throws {
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            _ = try await Migrator().migrate(connection)
            await connection.close()
            let outcome = try await CommandLineRunner.run(["distribute", "--database-url", db.url])
            #expect(outcome.status == 2, "\(outcome.stdout) \(outcome.stderr)")
            let lines = outcome.stderr.split(separator: "\n")
            #expect(lines.count == 1 && outcome.stderr.contains("no Citus") && outcome.stderr.contains("fix:"))
        }
    }

    @Test(
        "distribute is idempotent; later migrations place the tables they create by sql/citus/layout.sql, and one creating a table the layout does not name fails naming it"
    )
    func migrationsOnADistributedWarehouse() async throws {
        try await CitusCluster.with { cluster in
            // The schema as of 0070 with the landing fence (0090), distributed; then the migrations
            // after it (0071 and 0072 create tables).
            let early = FileManager.default.temporaryDirectory.appendingPathComponent("citus-mig-\(UUID())")
            let shipped = WarehouseFixture.repositoryRoot.appendingPathComponent("sql/migrations")
            try FileManager.default.createDirectory(at: early, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: early) }
            let names = try FileManager.default.contentsOfDirectory(atPath: shipped.path)
            for name in names where name < "0071" || name.hasPrefix("0090") {
                try FileManager.default.copyItem(
                    at: shipped.appendingPathComponent(name), to: early.appendingPathComponent(name))
            }
            let c = try await PostgresConnection.connect(cluster.url)
            // The feeds read later columns: only the migrations matter here.
            _ = try? await Migrator(directory: early).migrate(c)
            #expect(
                try await c.query("select to_regclass('dims.source_precedence') is null")[0].decode(Bool.self, at: 0))
            let first = try await CommandLineRunner.run(
                ["distribute", "--shard-count", "\(Self.shardCount)", "--database-url", cluster.url])
            #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
            let again = try await CommandLineRunner.run(["distribute", "--database-url", cluster.url])
            #expect(
                again.status == 0 && again.stdout.contains("distributed: 0 tables placed"),
                "\(again.stdout) \(again.stderr)")

            _ = try await Migrator().migrate(c)
            for (table, kind) in [
                ("dims.source_precedence", "reference"), ("recon.snapshot_unreadable", "distributed"),
                ("recon.comparison_keys", "distributed"),
            ] {
                let rows = try await c.query(
                    "select citus_table_type from citus_tables where table_name = $1::regclass", [table])
                #expect(try rows.first?.decode(String.self, at: 0) == kind, "\(table) after migrate")
            }

            // A migration whose table the layout does not name fails, and leaves nothing behind.
            let later = FileManager.default.temporaryDirectory.appendingPathComponent("citus-mig-\(UUID())")
            try FileManager.default.copyItem(at: shipped, to: later)
            defer { try? FileManager.default.removeItem(at: later) }
            try "create table ops.unplaced_probe (property_code text not null, n integer);\n".write(
                to: later.appendingPathComponent("0999_unplaced_probe.sql"), atomically: true, encoding: .utf8)
            do {
                _ = try await Migrator(directory: later).migrate(c)
                Issue.record("a migration with an unplaced table was applied")
            } catch let error as MigrationError {
                #expect(
                    error.message.contains("0999_unplaced_probe.sql") && error.message.contains("ops.unplaced_probe")
                        && error.message.contains("sql/citus/layout.sql"), "\(error.message)")
            }
            #expect(try await c.query("select to_regclass('ops.unplaced_probe') is null")[0].decode(Bool.self, at: 0))
            await c.close()
        }
    }
}
