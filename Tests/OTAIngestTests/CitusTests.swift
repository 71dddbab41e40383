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
@Suite("CitusTests", .enabled(if: ProcessInfo.processInfo.environment["OTA_TEST_CITUS"] != nil), .serialized)
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

    static func warehouse(url: String, distributed: Bool) async throws -> Warehouse {
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
    /// run names (which differ between any two warehouses); sorted rows per table.
    static func fingerprint(_ w: Warehouse) async throws -> [String: [String]] {
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
        print["recon.drift_metrics"] = try await h.strings(
            """
            select concat_ws('|', source, stream, property_code, metric, kind, value, threshold, breached, after_repair)
            from recon.drift_metrics order by 1
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
        ]
        var lines: [String] = []
        for line in ndjson.split(separator: "\n") where !line.isEmpty {
            lines.append(
                try await h.strings(
                    "select (select jsonb_object_agg(key, value) from jsonb_each($1::jsonb) where not key = any(string_to_array($2, ',')) and key !~ '(_at|_seconds|_ms|_age.*)$')::text",
                    [String(line), volatile.joined(separator: ",")])[0])
        }
        return lines.sorted()
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
        let workerPorts = cluster.workers.map(\.port)
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
            // The schema as of 0070, distributed; then the migrations after it (0071 and 0072 create tables).
            let early = FileManager.default.temporaryDirectory.appendingPathComponent("citus-mig-\(UUID())")
            let shipped = WarehouseFixture.repositoryRoot.appendingPathComponent("sql/migrations")
            try FileManager.default.createDirectory(at: early, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: early) }
            for name in try FileManager.default.contentsOfDirectory(atPath: shipped.path) where name < "0071" {
                try FileManager.default.copyItem(
                    at: shipped.appendingPathComponent(name), to: early.appendingPathComponent(name))
            }
            let c = try await PostgresConnection.connect(cluster.url)
            // The feeds read later columns: only the migrations matter here.
            _ = try? await Migrator(directory: early).migrate(c)
            #expect(try await c.query("select to_regclass('dims.source_precedence') is null")[0].decode(Bool.self, at: 0))
            let first = try await CommandLineRunner.run(
                ["distribute", "--shard-count", "\(Self.shardCount)", "--database-url", cluster.url])
            #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
            let again = try await CommandLineRunner.run(["distribute", "--database-url", cluster.url])
            #expect(again.status == 0 && again.stdout.contains("distributed: 0 tables placed"), "\(again.stdout) \(again.stderr)")

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

    // MARK: - Crash trials

    /// The pulls of one night, then a transform.
    static let pulls = [["pull", "reservations", "webhotelier"], ["pull", "rates", "webhotelier"], ["pull", "inventory", "acme"]]

    static func pullsAndTransform(_ w: Warehouse, config: URL, skip: Int = 0) async throws {
        for pull in pulls.dropFirst(skip) {
            let outcome = try await w.run(pull + ["--config", config.path, "--now", Timestamps.format(w.server.now)])
            #expect([0, 3].contains(outcome.status), "\(pull): \(outcome.stdout) \(outcome.stderr)")
        }
        let transform = try await w.run(["transform"])
        #expect(transform.status == 0, "transform: \(transform.stdout) \(transform.stderr)")
    }

    /// Staging and facts as multisets of (key, content).
    static func crashFingerprint(_ w: Warehouse) async throws -> [String: [String]] {
        var print = try await NightlyTests.fingerprint(w.harness)
        print["nights"] = nil
        return print
    }

    /// Holds `ops.transform_horizons` (written by 40_availability.sql, after the reservation
    /// and availability facts of the run are written) so a transform stops there; returns
    /// once a transform waits on it, with the waiting backend's pid.
    static func holdTransformMidway(_ observer: PostgresConnection) async throws {
        _ = try await observer.query("begin")
        _ = try await observer.query("lock table ops.transform_horizons in exclusive mode")
    }

    static func waitingTransform(_ watcher: PostgresConnection) async throws -> Int32? {
        var pid: Int32?
        let held = try await ServerActivity.poll {
            let rows = try await watcher.query(
                """
                select pid from pg_stat_activity
                where wait_event_type = 'Lock' and state = 'active' and query like '%transform_horizons%'
                """)
            pid = try rows.first?.decode(Int32.self, at: 0)
            return pid != nil
        }
        return held ? pid : nil
    }

    @Test("crash trials on Citus: SIGKILL mid-pull and mid-transform, a worker stopped at once mid-transform with 2PC recovery; each rerun equals a clean run")
    func crashTrials() async throws {
        // The clean run, on one server (invariant 11 makes it the reference for the cluster too).
        let single = try await TestDatabase.create()
        let one = try await Self.warehouse(url: single.url, distributed: false)
        one.server.advance(minutes: 1440)
        try await Self.pullsAndTransform(one, config: try NightlyTests.config(one.harness))
        let clean = try await Self.crashFingerprint(one)
        await one.server.stop()
        try await single.drop()

        let trials = Torture.trials(short: 1, full: 10)
        try await CitusCluster.with { cluster in
            var killedTransform = 0
            var killedPull = 0
            var stoppedWorker = 0
            for trial in 0..<trials {
                for kind in ["transform", "pull", "worker"] {
                    let url = try await cluster.createDatabase("ota_crash_\(kind)_\(trial)")
                    let w = try await Self.warehouse(url: url, distributed: true)
                    w.server.advance(minutes: 1440)
                    let config = try NightlyTests.config(w.harness)
                    let watcher = try await PostgresConnection.connect(url)
                    switch kind {
                    case "pull":
                        // Killed after its first batch has landed.
                        let child = try ChildProcess(
                            ["pull", "rates", "webhotelier", "--config", config.path, "--now",
                             Timestamps.format(w.server.now), "--database-url", url], environment: w.environment)
                        _ = try await ServerActivity.poll {
                            try await watcher.query("select count(*)::integer from ops.batches where stream = 'rates'")[0]
                                .decode(Int.self, at: 0) > 0 || !child.isRunning
                        }
                        child.kill()
                        _ = try await child.wait()
                        let first = try await w.run(Self.pulls[0] + ["--config", config.path, "--now", Timestamps.format(w.server.now)])
                        #expect([0, 3].contains(first.status), "\(first.stderr)")
                        try await Self.pullsAndTransform(w, config: config, skip: 1)
                    default:
                        for pull in Self.pulls {
                            let outcome = try await w.run(
                                pull + ["--config", config.path, "--now", Timestamps.format(w.server.now)])
                            #expect([0, 3].contains(outcome.status), "\(outcome.stderr)")
                        }
                        let observer = try await PostgresConnection.connect(url)
                        try await Self.holdTransformMidway(observer)
                        let child = try ChildProcess(["transform", "--database-url", url])
                        let pid = try await Self.waitingTransform(watcher)
                        #expect(pid != nil, "the transform never reached ops.transform_horizons")
                        if kind == "transform" {
                            child.kill()
                            _ = try await child.wait()
                            _ = try await observer.query("rollback")
                        } else {
                            try await cluster.workers[0].stopImmediately()
                            _ = try await observer.query("rollback")
                            let failed = try await child.wait()
                            #expect(failed.status != 0, "a transform with a worker down succeeded: \(failed.stdout)")
                            try await cluster.workers[0].startServer()
                            _ = try await watcher.query("select recover_prepared_transactions()")
                        }
                        await observer.close()
                        // The killed transform's backend is gone before the rerun.
                        if let pid {
                            _ = try await ServerActivity.poll {
                                try await watcher.query("select 1 from pg_stat_activity where pid = $1", [pid]).count == 0
                            }
                        }
                        let rerun = try await w.run(["transform"])
                        #expect(rerun.status == 0, "rerun: \(rerun.stdout) \(rerun.stderr)")
                    }
                    await watcher.close()
                    let print = try await Self.crashFingerprint(w)
                    expectSameStaging(print, clean)
                    let violations = Set(print.keys).union(clean.keys).map {
                        Torture.difference(print[$0] ?? [], clean[$0] ?? [])
                    }.reduce(0, +)
                    switch kind {
                    case "transform": killedTransform += violations
                    case "pull": killedPull += violations
                    default: stoppedWorker += violations
                    }
                    await w.server.stop()
                }
            }
            Torture.record(
                "Citus: SIGKILL of transform mid-promotion, rerun vs a clean run", trials: trials,
                violations: killedTransform, note: "staging and facts vs one server fed by the same world")
            Torture.record(
                "Citus: SIGKILL of pull after its first batch, rerun vs a clean run", trials: trials,
                violations: killedPull, note: "staging and facts vs one server fed by the same world")
            Torture.record(
                "Citus: a worker stopped at once mid-transform, 2PC recovery, restart, rerun", trials: trials,
                violations: stoppedWorker, note: "staging and facts vs one server fed by the same world")
        }
    }
}
