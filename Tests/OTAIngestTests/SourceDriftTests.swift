import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// Drift that means what it says, against the real sandbox: dead-lettered
/// entries are unreadable (never movement, never drift), a cell the OTA stopped
/// serving is closed by a tombstone through staging, and two sources serving
/// the same cells never version or repair each other.
@Suite struct SourceDriftTests {
    private func reconciler(
        _ h: PullHarness, source: String, stream: String? = nil, repair: Bool = false, stayWindowDays: Int = 45
    ) -> ReconcileRunner {
        ReconcileRunner(
            databaseURL: h.db.url, config: h.sources { $0.stayWindowDays = stayWindowDays }, sourceName: source,
            stream: stream, repair: repair,
            clock: WallClock(pinned: h.server.now), secrets: SecretResolver(environment: h.environment))
    }

    /// A world where nothing changes by itself: only the test changes it.
    private static func still(_ c: inout SandboxConfiguration) {
        c.propertyCount = 1
        c.initialBookingsPerProperty = 0
        c.activity.newBooking = 0
        c.activity.modification = 0
        c.activity.cancellation = 0
        c.activity.restore = 0
        c.activity.priceChange = 0
        c.activity.inventoryChange = 0
        c.activity.priceDrift = 0
    }

    /// Malformed records the sandbox serves on `surface` inside the pull's stay window.
    private func malformed(_ h: PullHarness, _ surface: RecordSurface) -> Int {
        let first = CivilDate(h.server.now)
        let last = first.adding(days: 44)
        return h.server.malformedRecords().filter {
            $0.surface == surface && $0.date.flatMap(CivilDate.init).map { first <= $0 && $0 <= last } == true
        }.count
    }

    @Test func aFlakyFeedIsUnreadableNotMovementAndExitsThreeNotFour() async throws {
        try await PullHarness.with({ c in
            c.seed = 67
            Self.still(&c)
        }) { h in
            // A clean read first: the warehouse holds every cell.
            for stream in ["availability", "rates"] {
                let clean = try await reconciler(h, source: "webhotelier", stream: stream).run()
                #expect(clean.status == .success, "\(clean.summary)")
            }
            var faults = h.server.faults
            faults.malformedRecordRate = 0.05
            h.server.setFaults(faults)
            let broken = (availability: malformed(h, .availability), rates: malformed(h, .rates))
            #expect(
                broken.availability > 0 && broken.rates > 0, "the sandbox malforms entries of both feeds: \(broken)")

            // Three reads, nothing moves at the OTA; each read dead-letters the same 5%.
            for read in 1...3 {
                h.server.advance(minutes: 60)
                for stream in ["availability", "rates"] {
                    let outcome = try await reconciler(h, source: "webhotelier", stream: stream).run()
                    let m = try #require(outcome.scopes.first?.metrics, "\(outcome.summary)")
                    #expect(outcome.status == .finishedWithDeadLetters, "read \(read) \(stream): \(outcome.summary)")
                    #expect(m["movement_share"] == 0, "read \(read) \(stream): \(outcome.summary)")
                    #expect(m["mismatched_keys"] == 0, "read \(read) \(stream): \(outcome.summary)")
                    #expect(m["extra_keys"] == 0)
                    #expect(
                        m["unreadable"] == Double(stream == "availability" ? broken.availability : broken.rates),
                        "read \(read) \(stream)")
                    #expect(
                        (m["unreadable_keys"] ?? 0) >= (m["unreadable"] ?? 0), "every broken entry hid a known cell")
                }
            }
            // The keys behind the comparison are listed, as unreadable.
            let listing = try await ComparisonKeyListing.render(
                databaseURL: h.db.url, source: "webhotelier", stream: "availability", property: nil, limit: 1000)
            #expect(
                listing.components(separatedBy: "\n").filter { $0.hasPrefix("  unreadable") }.count
                    == broken.availability, "\(listing)")
        }
    }

    @Test func aWithdrawnRatePlanIsClosedByItsTombstoneAndAFullRefreshAgrees() async throws {
        try await PullHarness.with({ c in
            c.seed = 71
            Self.still(&c)
        }) { h in
            let property = h.server.accounts()[0].code
            let first = try await reconciler(h, source: "webhotelier", stream: "rates").run()
            #expect(first.status == .success, "\(first.summary)")
            let rate = try #require(
                try await h.strings(
                    "select min(rate_id) from facts.rates where is_current and stay_date >= $1::date",
                    [
                        CivilDate(h.server.now).description
                    ]
                ).first)
            let cells = try await h.int(
                "select count(*)::int from facts.rates where is_current and rate_id = $1 and stay_date >= $2::date",
                [rate, CivilDate(h.server.now).description])
            #expect(cells > 0)
            #expect(h.server.withdrawRate(property: property, rateID: Int(rate)!))

            // One read without the plan: extra, but one read proves nothing, so no tombstone yet.
            h.server.advance(minutes: 60)
            let once = try await reconciler(h, source: "webhotelier", stream: "rates", repair: true).run()
            let onceScope = try #require(once.scopes.first)
            #expect(onceScope.metrics["extra_keys"] == Double(cells), "\(once.summary)")
            #expect(once.status == .driftBreached, "\(once.summary)")
            #expect(once.summary.contains("reconcile --show-keys"), "\(once.summary)")
            let cli = try await CommandLineRunner.run(
                ["reconcile", "--show-keys", "--stream", "rates", "--limit", "3", "--database-url", h.db.url])
            #expect(cli.status == 0, "\(cli.stderr)")
            #expect(
                cli.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("  extra") }.count == 3, "\(cli.stdout)")
            let listed = try await ComparisonKeyListing.render(
                databaseURL: h.db.url, source: "webhotelier", stream: "rates", property: property, limit: 10_000)
            #expect(
                listed.components(separatedBy: "\n").filter { $0.hasPrefix("  extra") && $0.contains("\"\(rate)\"") }
                    .count == cells, "\(listed)")
            #expect(try await h.int("select count(*)::int from facts.rates where withdrawn") == 0)

            // The second read without it: the repair lands tombstones and verifies.
            h.server.advance(minutes: 60)
            let twice = try await reconciler(h, source: "webhotelier", stream: "rates", repair: true).run()
            let twiceScope = try #require(twice.scopes.first)
            #expect(twice.status == .success, "\(twice.summary)")
            #expect(twiceScope.repaired && twiceScope.repairedKeys == cells, "\(twice.summary)")
            #expect(
                try await h.int(
                    "select count(*)::int from facts.rates where is_current and withdrawn and origin = 'reconcile' and rate_id = $1",
                    [rate]) == cells)
            #expect(
                try await h.int(
                    "select count(*)::int from feeds.pricing_current_rates where rate_id = $1", [rate]) == 0,
                "pricing no longer reads a withdrawn plan")

            h.server.advance(minutes: 60)
            let after = try await reconciler(h, source: "webhotelier", stream: "rates").run()
            #expect(after.status == .success, "\(after.summary)")
            #expect(after.scopes.first?.metrics["mismatched_keys"] == 0, "\(after.summary)")

            // Facts are a pure function of staging: a full refresh gives the same withdrawn versions.
            let fingerprint =
                "select string_agg(t::text, '|' order by t::text) from facts.rates t"
            let incremental = try await h.strings(fingerprint)
            let connection = try await h.db.connect()
            let refreshed = try await TransformRunner().run(connection, fullRefresh: true)
            await connection.close()
            #expect(refreshed.failedChecks.isEmpty, "\(refreshed.rendered)")
            #expect(try await h.strings(fingerprint) == incremental)

            // The plan comes back: its next observation opens a new version of each cell.
            h.server.withdrawRate(property: property, rateID: Int(rate)!, withdrawn: false)
            h.server.advance(minutes: 60)
            let back = try await reconciler(h, source: "webhotelier", stream: "rates").run()
            #expect(back.status == .success, "\(back.summary)")
            #expect(
                try await h.int(
                    "select count(*)::int from facts.rates where is_current and not withdrawn and rate_id = $1 and stay_date >= $2::date",
                    [rate, CivilDate(h.server.now).description]) == cells)
            #expect(
                try await h.int(
                    "select count(*)::int from facts.rates where rate_id = $1 and withdrawn and is_current", [rate])
                    == 0)
        }
    }

    @Test func twoSourcesOverTheSameCellsKeepTheirOwnVersionsForThreeNights() async throws {
        try await PullHarness.with({ c in
            c.seed = 73
            c.propertyCount = 1
            c.initialBookingsPerProperty = 0
            c.activity.priceDrift = 0
            c.cursorFeedPriceOffsetCents = 700
        }) { h in
            for night in 1...3 {
                if night > 1 { h.server.advance(minutes: 24 * 60) }
                try await h.pull(.feeds(InventoryPull.streams)) { $0.stayWindowDays = 15 }
                try await h.pull(.inventory)
                for (source, stream) in [("webhotelier", "rates"), ("acme", "inventory")] {
                    let outcome = try await reconciler(
                        h, source: source, stream: stream, repair: true, stayWindowDays: 15
                    ).run()
                    #expect(outcome.status == .success, "night \(night) \(source): \(outcome.summary)")
                    for scope in outcome.scopes {
                        #expect(scope.metrics["mismatched_keys"] == 0, "night \(night): \(outcome.summary)")
                        #expect(!scope.breached && scope.repairedKeys == 0)
                    }
                }
            }
            #expect(
                try await h.int("select count(*)::int from staging.rate_observations where origin = 'reconcile'") == 0,
                "nothing was repaired")
            // The same cells, both sources: each keeps a current version of its own.
            #expect(
                try await h.int(
                    """
                    select count(*)::int from (
                        select 1 from facts.rates where is_current
                        group by property_code, rate_id, room_code, stay_date, adults, children, channel
                        having count(distinct source) = 2) shared
                    """) > 100)
            // No churn: each source has exactly one version per change of its own values.
            for source in ["webhotelier", "acme"] {
                let versions = try await h.int(
                    "select count(*)::int from facts.rates where source = $1", [source])
                let changes = try await h.int(
                    """
                    select count(*)::int from (
                        select facts.rate_row_hash(price, currency, closeout, min_stay, available) as value,
                               lag(facts.rate_row_hash(price, currency, closeout, min_stay, available)) over (
                                   partition by property_code, rate_id, room_code, stay_date, adults, children, channel
                                   order by coalesce(source_updated_at, observed_at), loaded_at) as previous
                        from staging.rate_observations where source = $1) o
                    where o.previous is distinct from o.value
                    """, [source])
                #expect(versions == changes, "\(source): \(versions) versions for \(changes) changes")
            }
        }
    }
}
