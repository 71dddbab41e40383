import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// Reconciliation against the real server and the sandbox's truth: no drift on a
/// clean world, every injected kind found with the right counts, repairs that
/// make the facts equal the truth, and feeds read no more often than allowed.
@Suite struct ReconcileTests {
    /// Polls a condition (a database row, a process state) until it holds; a short pause
    /// between looks keeps the two shared cores for the processes being watched.
    private func waitUntil(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within 60 s")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    private func reconciler(
        _ h: PullHarness, source: String, stream: String? = nil, repair: Bool = false,
        _ adjust: @escaping (inout SourceConfig) -> Void = { _ in }
    ) -> ReconcileRunner {
        ReconcileRunner(
            databaseURL: h.db.url, config: h.sources(adjust), sourceName: source, stream: stream, repair: repair,
            clock: WallClock(pinned: h.server.now), secrets: SecretResolver(environment: h.environment))
    }

    /// The feed's current price per record, by the sandbox's truth.
    private func truePrices(_ h: PullHarness) -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: h.server.accounts().flatMap { h.server.inventoryRecords(property: $0.code) }.map {
                ($0.id, money($0.priceCents))
            })
    }

    /// The warehouse's current price per cursor-feed record key.
    private func factPrices(_ h: PullHarness) async throws -> [String: String] {
        let rows = try await h.strings(
            """
            select concat_ws(':', property_code, room_code, rate_id, stay_date, adults) || '=' || price
            from facts.rates where is_current and stream = 'inventory'
            """)
        return Dictionary(
            uniqueKeysWithValues: rows.map { row in
                let parts = row.split(separator: "=")
                return (String(parts[0]), String(parts[1]))
            })
    }

    @Test func cursorFeedPriceDriftAndLostUpdatesAreFoundRepairedAndVerified() async throws {
        try await PullHarness.with({ c in
            c.seed = 41
            c.propertyCount = 1
            c.activity.priceDrift = 0.3
        }) { h in
            try await h.pull(.inventory)
            // Clean world: nothing drifted yet, so no false positive.
            let clean = try await reconciler(h, source: "acme").run()
            #expect(clean.status == .success, "\(clean.summary)")
            let cleanScope = try #require(clean.scopes.first)
            #expect(cleanScope.metrics["mismatched_keys"] == 0)
            #expect(cleanScope.metrics["compared_keys"] == Double(truePrices(h).count))
            #expect(cleanScope.metrics["movement_share"] == nil, "no previous snapshot, no movement")

            // Drift moves prices without moving updated_at; malformed records lose their updates.
            var faults = h.server.faults
            faults.malformedRecordRate = 0.01
            h.server.setFaults(faults)
            h.server.advance(minutes: 600)
            try await h.pull(.inventory)
            let malformed = Set(h.server.malformedRecords().compactMap(\.recordID))
            faults.malformedRecordRate = 0
            h.server.setFaults(faults)
            _ = try await TransformRunner().run(try await h.db.connect())
            let truth = truePrices(h)
            let before = try await factPrices(h)
            let wrong = truth.filter { before[$0.key] != $0.value }
            #expect(wrong.count > 10, "the drift should have moved prices the incremental pull cannot see")
            #expect(
                !malformed.isDisjoint(with: wrong.keys),
                "some update was lost on the way: its record was dead-lettered")

            let found = try await reconciler(h, source: "acme").run()
            #expect(found.status == .driftBreached, "\(found.summary)")
            let scope = try #require(found.scopes.first)
            #expect(scope.breached)
            #expect(scope.metrics["mismatched_keys"] == Double(wrong.count), "\(found.summary)")
            #expect(scope.metrics["mismatch.price"] == Double(wrong.count))
            #expect(scope.metrics["missing_keys"] == 0)
            #expect(scope.metrics["extra_keys"] == 0)
            #expect((scope.metrics["movement_share"] ?? 0) > 0, "prices moved since the first snapshot")
            let maxDiff = wrong.map { abs(Double($0.value)! - Double(before[$0.key]!)!) }.max()!
            #expect(abs((scope.metrics["price_diff_max"] ?? -1) - maxDiff) < 0.001)

            // Repair: the facts equal the truth, through staging, with origin reconcile.
            let repaired = try await reconciler(h, source: "acme", repair: true).run()
            #expect(repaired.status == .success, "\(repaired.summary)")
            #expect(repaired.scopes.first?.repaired == true)
            #expect(repaired.scopes.first?.reusedSnapshot == true, "the stored snapshot is compared again")
            #expect(try await factPrices(h) == truth)
            #expect(
                try await h.int("select count(*)::int from facts.rates where is_current and origin = 'reconcile'")
                    == wrong.count)

            // A second reconcile against the stored snapshot reports no breach.
            let verified = try await reconciler(h, source: "acme").run()
            #expect(verified.status == .success, "\(verified.summary)")
            #expect(verified.scopes.first?.metrics["mismatched_keys"] == 0)
        }
    }

    @Test func silentChangesAndDeadLetteredBookingsAreFoundAndRepaired() async throws {
        try await PullHarness.with({ c in
            c.seed = 43
            c.propertyCount = 1
            c.initialBookingsPerProperty = 12
        }) { h in
            let start = h.server.now
            h.server.advance(minutes: 300)
            try await h.pull(.reservations(since: CivilDate(start.addingTimeInterval(-400 * 86400))))
            try await h.pull(.reservations(since: nil))
            let clean = try await reconciler(h, source: "webhotelier", stream: "reservations").run()
            #expect(clean.status == .success, "\(clean.summary)")
            #expect(clean.scopes.first?.metrics["mismatched_keys"] == 0, "\(clean.summary)")
            #expect((clean.scopes.first?.metrics["compared_keys"] ?? 0) > 5)

            // Changed and cancelled at the OTA without entering the queue.
            var faults = h.server.faults
            faults.silentChangeRate = 1
            h.server.setFaults(faults)
            h.server.advance(minutes: 900)
            try await h.pull(.reservations(since: nil))
            let silent = Set(h.server.silentChanges().map { String($0.id) })
            _ = try await TransformRunner().run(try await h.db.connect())
            // A silent change to a booking still queued for another change is seen by the pull.
            let drifted = try await truthDiff(h)
            #expect(!drifted.isEmpty)
            #expect(drifted.isSubset(of: silent), "only the silent changes drifted")
            let found = try await reconciler(h, source: "webhotelier", stream: "reservations").run()
            #expect(found.status == .driftBreached, "\(found.summary)")
            #expect(found.scopes.first?.metrics["mismatched_keys"] == Double(drifted.count), "\(found.summary)")
            #expect(found.scopes.first?.metrics["missing_keys"] == 0)

            // Broken last versions are dead-lettered by the pull.
            faults.silentChangeRate = 0
            faults.malformedRecordRate = 0.5
            h.server.setFaults(faults)
            let beforeBroken = h.server.now
            h.server.advance(minutes: 900)
            try await h.pull(.reservations(since: nil))
            let broken = Set(
                h.server.bookingVersions().filter {
                    $0.validTo == nil && $0.malformation != nil && $0.validFrom > beforeBroken
                }.map { String($0.bookingID) })
            #expect(!broken.isEmpty)
            #expect(
                try await h.int("select count(*)::int from ops.dead_letters where stream = 'reservations'")
                    >= broken.count)

            // Switched off before the repair: the search and the refetch see intact bodies.
            faults.malformedRecordRate = 0
            h.server.setFaults(faults)
            _ = try await TransformRunner().run(try await h.db.connect())
            let lost = try await truthDiff(h)
            #expect(lost.isSubset(of: silent.union(broken)))
            #expect(!lost.isDisjoint(with: broken), "some booking's last version was dead-lettered")
            let repaired = try await reconciler(h, source: "webhotelier", stream: "reservations", repair: true).run()
            #expect(repaired.status == .success, "\(repaired.summary)")
            let scope = try #require(repaired.scopes.first)
            #expect(scope.metrics["mismatched_keys"] == Double(lost.count), "\(repaired.summary)")
            #expect(scope.repaired)

            // The facts now hold each booking's current version at the OTA.
            let truth = h.server.bookingVersions().filter { $0.validTo == nil }.map { v in
                "\(v.bookingID)|\(v.status == 1 ? "confirmed" : "cancelled")|\(Self.text(v.body["roomStay"]?["from"]))"
            }
            let facts = try await h.strings(
                "select concat_ws('|', confirmation_id, status, check_in) from facts.reservations where is_current")
            #expect(facts.sorted() == truth.sorted())
            #expect(
                try await h.int(
                    "select count(distinct confirmation_id)::int from facts.reservations where origin = 'reconcile'")
                    == lost.count)
            #expect(try await truthDiff(h).isEmpty)

            let verified = try await reconciler(h, source: "webhotelier", stream: "reservations").run()
            #expect(verified.status == .success, "\(verified.summary)")
            #expect(verified.scopes.first?.reusedSnapshot == true)
            #expect(verified.scopes.first?.metrics["mismatched_keys"] == 0)
        }
    }

    /// Bookings whose current version at the OTA the facts do not hold as current
    /// (by content hash, computed by PostgreSQL the way staging computes it).
    private func truthDiff(_ h: PullHarness) async throws -> Set<String> {
        let current = h.server.bookingVersions().filter { $0.validTo == nil }
        let document =
            "[" + current.map { "{\"id\":\"\($0.bookingID)\",\"body\":\($0.body.text)}" }.joined(separator: ",") + "]"
        return Set(
            try await h.strings(
                """
                select t ->> 'id' from jsonb_array_elements($1::jsonb) t
                left join facts.reservations f on f.confirmation_id = t ->> 'id' and f.is_current
                where f.content_hash is distinct from encode(sha256(convert_to((t -> 'body')::text, 'UTF8')), 'hex')
                """, [document]))
    }

    private static func text(_ value: OTASandbox.JSONValue?) -> String {
        switch value {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        default: return "?"
        }
    }

    @Test func webHotelierFeedsAreReadNoMoreOftenThanTheFeedInterval() async throws {
        try await PullHarness.with({ c in
            c.seed = 47
            c.propertyCount = 1
        }) { h in
            let interval: (inout SourceConfig) -> Void = { $0.feedInterval = .seconds(6 * 3600) }
            let code = h.server.accounts()[0].code
            try await h.pull(.feeds(InventoryPull.streams), interval)
            try await h.pull(.reservations(since: CivilDate(h.server.now.addingTimeInterval(-400 * 86400))))
            let afterPull = h.server.stats().feedReads[code] ?? 0
            #expect(afterPull > 0)

            // Within the interval: the night's read is the snapshot; the feeds are not read.
            let first = try await reconciler(h, source: "webhotelier", stream: nil, interval).run()
            #expect(first.status == .success, "\(first.summary)")
            #expect(h.server.stats().feedReads[code] == afterPull)
            let feedScopes = first.scopes.filter { $0.stream != "reservations" }
            #expect(feedScopes.count == 2)
            #expect(feedScopes.allSatisfy { $0.metrics["mismatched_keys"] == 0 }, "\(first.summary)")
            #expect(
                try await h.int("select count(*)::int from recon.snapshots where read_kind = 'feed_read'") == 2)

            // Past the interval: one read, landed as a pull rates run, then reused.
            h.server.advance(minutes: 7 * 60)
            let later = try await reconciler(h, source: "webhotelier", stream: "availability", interval).run()
            #expect(later.status == .success, "\(later.summary)")
            let afterFresh = h.server.stats().feedReads[code] ?? 0
            #expect(afterFresh == afterPull + afterPull / 2, "one read of the availability feed: its chunks only")
            #expect(
                try await h.int("select count(*)::int from ops.runs where command = 'pull rates webhotelier'") == 2)
            _ = try await reconciler(h, source: "webhotelier", stream: "availability", interval).run()
            #expect(h.server.stats().feedReads[code] == afterFresh)
        }
    }

    @Test func pipelineHealthMatchesTheSandboxFaultLog() async throws {
        try await PullHarness.with({ c in
            c.seed = 53
            c.propertyCount = 1
            c.faults.serverErrorRate = 0.25
            c.faults.malformedRecordRate = 0.2
        }) { h in
            let start = h.server.now
            h.server.advance(minutes: 1200)
            try await h.pull(.reservations(since: nil)) { $0.maxAttempts = 30 }
            let outcome = try await reconciler(h, source: "webhotelier", stream: "reservations") {
                $0.maxAttempts = 30
            }.run()
            let metrics = try #require(outcome.scopes.first?.metrics, "\(outcome.summary)")
            let stats = h.server.stats()
            let requests = stats.requests.filter { !$0.key.contains("/_sandbox") }.values.reduce(0, +)
            let saturated =
                (stats.faults["server_error"] ?? 0) + (stats.faults["rate_limited"] ?? 0)
                + (stats.faults["unavailable"] ?? 0)
            #expect(saturated > 0)
            #expect(metrics["health.requests"] == Double(requests))
            let expectedSaturation = (Double(saturated) / Double(requests) * 1e6).rounded() / 1e6
            #expect(metrics["health.retry_saturation"] == expectedSaturation)

            // Every booking changed since the start was queued and fetched once; the broken ones died.
            let changed = Dictionary(
                grouping: h.server.bookingVersions().filter { $0.validFrom > start }, by: \.bookingID)
            let current = h.server.bookingVersions().filter { $0.validTo == nil }
            let dead = current.filter { changed[$0.bookingID] != nil && $0.malformation != nil }.count
            #expect(dead > 0)
            #expect(metrics["health.dead_letters"] == Double(dead))
            #expect(metrics["health.records_received"] == Double(changed.count))
            #expect(metrics["health.drop_rate"] == (Double(dead) / Double(changed.count) * 1e6).rounded() / 1e6)
        }
    }

    @Test func aKilledReconcileLeavesNoHalfSnapshotAndNoDoubledRepair() async throws {
        try await PullHarness.with({ c in
            c.seed = 59
            c.propertyCount = 1
            c.activity.priceDrift = 0.3
        }) { h in
            try await h.pull(.inventory)
            h.server.advance(minutes: 600)
            try await h.pull(.inventory)
            let config = try h.writeConfig()
            let arguments = [
                "reconcile", "--source", "acme", "--repair", "--config", config.path, "--database-url", h.db.url,
                "--now", Timestamps.format(h.server.now),
            ]
            // Killed once its snapshot has committed (the comparison and repair were
            // under way or not begun): the rerun resumes the run and its snapshot.
            let killed = try ChildProcess(arguments, environment: h.environment)
            try await waitUntil {
                if !killed.isRunning { return true }
                return try await h.int("select count(*)::int from recon.snapshots where stream = 'inventory'") > 0
            }
            killed.kill()
            _ = try await killed.wait()
            // The server ends the dead client's session (and its run lock) once it notices.
            try await waitUntil {
                try await h.int(
                    """
                    select count(*)::int from pg_locks where locktype = 'advisory'
                      and database = (select oid from pg_database where datname = current_database())
                    """) == 0
            }
            #expect(
                try await h.int(
                    "select count(*)::int from recon.snapshots s where keys <> (select count(*) from recon.snapshot_rates r where r.snapshot_id = s.snapshot_id)"
                ) == 0, "a snapshot is there whole or not at all")
            let rerun = try await CommandLineRunner.run(arguments, environment: h.environment)
            #expect(rerun.status == 0, "\(rerun.stdout) \(rerun.stderr)")
            #expect(!rerun.stderr.contains("in progress"), "the rerun must do the work: \(rerun.stderr)")
            let again = try await CommandLineRunner.run(arguments, environment: h.environment)
            #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
            // Each repaired key landed once, whatever the kill and the reruns did.
            let doubled = try await h.int(
                """
                select count(*)::int from (select 1 from staging.rate_observations where origin = 'reconcile'
                group by property_code, rate_id, room_code, stay_date, adults having count(*) > 1) d
                """)
            #expect(doubled == 0)
            let half = try await h.int(
                "select count(*)::int from recon.snapshots s where keys <> (select count(*) from recon.snapshot_rates r where r.snapshot_id = s.snapshot_id)"
            )
            let facts = try await factPrices(h)
            let truth = truePrices(h)
            let differing = truth.filter { facts[$0.key] != $0.value }.map {
                "\($0.key) \($0.value) vs \(facts[$0.key] ?? "-")"
            }
            #expect(differing.isEmpty, "\(differing.count) differ, e.g. \(differing.prefix(3)); \(rerun.stdout)")
            Torture.record(
                "SIGKILL of reconcile after its snapshot, rerun", trials: 1,
                violations: doubled + half + differing.count + (rerun.status == 0 ? 0 : 1),
                note: "no half snapshot, no repair landed twice, facts equal the truth")
        }
    }
}
