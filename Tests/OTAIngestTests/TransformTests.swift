import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

@Suite struct ReservationLifecycleTests {
    typealias W = WarehouseFixture

    @Test func newUpdateCancelRestoreFollowStatusTransitions() async throws {
        try await W.with { w in
            let id = "7001"
            try await w.stageBooking(
                id: id, eventType: "new",
                body: W.booking(
                    id: id, status: 1, checkIn: "2025-06-01", nights: 2, nightly: 100, changedAt: "2025-03-01T08:00:00Z"
                ),
                otaTime: "2025-03-01 08:00Z", loadedAt: "2025-03-01 08:05Z")
            try await w.transform()
            try await w.stageBooking(
                id: id, eventType: "update",
                body: W.booking(
                    id: id, status: 1, checkIn: "2025-06-01", nights: 3, nightly: 100, changedAt: "2025-03-02T08:00:00Z"
                ),
                otaTime: "2025-03-02 08:00Z", loadedAt: "2025-03-02 08:05Z")
            try await w.transform()
            // The cancel says "update": the lifecycle comes from status 1 -> 0, not from the event name.
            try await w.stageBooking(
                id: id, eventType: "update",
                body: W.booking(
                    id: id, status: 0, checkIn: "2025-06-01", nights: 3, nightly: 100, changedAt: "2025-03-03T08:00:00Z"
                ),
                otaTime: "2025-03-03 08:00Z", loadedAt: "2025-03-03 08:05Z")
            try await w.stageBooking(
                id: id, eventType: "restore",
                body: W.booking(
                    id: id, status: 1, checkIn: "2025-06-01", nights: 3, nightly: 100, changedAt: "2025-03-04T08:00:00Z"
                ),
                otaTime: "2025-03-04 08:00Z", loadedAt: "2025-03-04 08:05Z")
            let summary = try await w.transform()
            #expect(summary.failedChecks.isEmpty, "\(summary.rendered)")

            let rows = try await w.strings(
                "select concat_ws(' ', version, lifecycle, status, nights, room_nights, valid_to is null) from facts.reservations where confirmation_id = $1 order by valid_from",
                [id])
            #expect(
                rows == [
                    "1 new confirmed 2 2 f", "2 update confirmed 3 3 f", "3 cancel cancelled 3 3 f",
                    "4 restore confirmed 3 3 t",
                ])
            // Nights follow their version: 2 + 3 + 3 + 3, only the restored ones current.
            #expect(
                try await w.int("select count(*)::int from facts.reservation_nights where confirmation_id = $1", [id])
                    == 11)
            #expect(
                try await w.int(
                    "select count(*)::int from facts.reservation_nights where confirmation_id = $1 and is_current and status = 'confirmed'",
                    [id]) == 3)
            // GBP property reporting in EUR: converted at each night's rate.
            #expect(
                try await w.int(
                    "select count(*)::int from facts.reservations where confirmation_id = $1 and currency = 'GBP' and reporting_currency = 'EUR' and room_revenue_gross_rc > room_revenue_gross",
                    [id]) == 4)
        }
    }

    @Test func aModificationArrivingBeforeTheVersionItFollowsSlotsIn() async throws {
        try await W.with { w in
            let id = "7002"
            try await w.stageBooking(
                id: id, eventType: "new",
                body: W.booking(
                    id: id, status: 1, checkIn: "2025-07-01", nights: 2, nightly: 90, changedAt: "2025-03-01T08:00:00Z"),
                otaTime: "2025-03-01 08:00Z", loadedAt: "2025-03-01 08:05Z")
            try await w.stageBooking(
                id: id, eventType: "cancel",
                body: W.booking(
                    id: id, status: 0, checkIn: "2025-07-01", nights: 4, nightly: 90, changedAt: "2025-03-03T08:00:00Z"),
                otaTime: "2025-03-03 08:00Z", loadedAt: "2025-03-03 08:05Z")
            try await w.transform()
            // The modification the cancel followed lands last (a delayed push).
            try await w.stageBooking(
                id: id, eventType: "update",
                body: W.booking(
                    id: id, status: 1, checkIn: "2025-07-01", nights: 4, nightly: 90, changedAt: "2025-03-02T08:00:00Z"),
                otaTime: "2025-03-02 08:00Z", loadedAt: "2025-03-05 09:00Z")
            let summary = try await w.transform()
            #expect(summary.failedChecks.isEmpty, "\(summary.rendered)")

            let rows = try await w.strings(
                "select concat_ws(' ', version, lifecycle, nights, to_char(valid_from, 'DD'), coalesce(to_char(valid_to, 'DD'), '-')) from facts.reservations where confirmation_id = $1 order by valid_from",
                [id])
            #expect(rows == ["1 new 2 01 02", "2 update 4 02 03", "3 cancel 4 03 -"])
            let nightsOfFirst = try await w.strings(
                "select distinct to_char(valid_to, 'DD') from facts.reservation_nights where confirmation_id = $1 and version_date = '2025-03-01'",
                [id])
            #expect(nightsOfFirst == ["02"], "the first version's nights end where the late version begins")

            // As the warehouse knew it on 03-04, the late version did not exist.
            let asOf = try await w.strings(
                "select concat_ws(' ', version, status, coalesce(to_char(valid_to, 'DD'), '-')) from feeds.reservations_as_of('2025-03-04 00:00Z') where confirmation_id = $1 order by valid_from",
                [id])
            #expect(asOf == ["1 confirmed 03", "2 cancelled -"])
            let now = try await w.int(
                "select count(*)::int from feeds.reservations_as_of(now()) where confirmation_id = $1", [id])
            #expect(now == 3)
        }
    }

    @Test func transactionEventsAreKeptAndCollisionsNeverPromoted() async throws {
        try await W.with { w in
            let id = "7003"
            try await w.stageBooking(
                id: id, eventType: "new",
                body: W.booking(
                    id: id, status: 1, checkIn: "2025-08-01", nights: 1, nightly: 80, changedAt: "2025-03-01T08:00:00Z"),
                otaTime: "2025-03-01 08:00Z", loadedAt: "2025-03-01 08:05Z")
            try await w.stageBooking(
                id: id, eventType: "transaction",
                body: W.booking(
                    id: id, status: 1, checkIn: "2025-08-01", nights: 1, nightly: 85, changedAt: "2025-03-02T08:00:00Z"),
                otaTime: "2025-03-02 08:00Z", loadedAt: "2025-03-02 08:05Z")
            let collision = try await w.stageBooking(
                id: id, eventType: "new",
                body: W.booking(
                    id: id, status: 1, checkIn: "2025-09-01", nights: 5, nightly: 10, changedAt: "2025-03-02T09:00:00Z"),
                otaTime: "2025-03-02 09:00Z", loadedAt: "2025-03-02 09:05Z")
            try await w.connection.execute(
                "update staging.reservation_events set is_collision = true where event_id = $1", [collision])
            try await w.transform()
            #expect(
                try await w.int("select count(*)::int from facts.reservations where confirmation_id = $1", [id]) == 2)
            #expect(
                try await w.int(
                    "select count(*)::int from facts.reservation_transactions where confirmation_id = $1", [id]) == 1)
        }
    }
}

@Suite struct TransformDeterminismTests {
    typealias W = WarehouseFixture

    /// A small world with every kind of row, staged over two "days".
    static func stageWorld(_ w: W) async throws {
        let nights = W.nights(from: "2025-05-01", count: 40)
        try await w.stageRates(
            nights: nights, price: { _ in 120 }, observedAt: "2025-03-01 06:00Z", loadedAt: "2025-03-01 06:01Z")
        try await w.stageAvailability(
            nights: nights, allotment: { _ in 6 }, observedAt: "2025-03-01 06:00Z", loadedAt: "2025-03-01 06:01Z")
        for n in 0..<5 {
            let id = String(8000 + n)
            try await w.stageBooking(
                id: id, eventType: "new",
                body: W.booking(
                    id: id, status: 1, checkIn: "2025-05-0\(n + 1)", nights: 2, nightly: 100,
                    email: "g\(n)@example.com", changedAt: "2025-03-01T0\(n):00:00Z"),
                otaTime: "2025-03-01 0\(n):00Z", loadedAt: "2025-03-01 07:00Z")
        }
    }

    @Test func runningTwiceChangesNothingAndFullRefreshGivesTheSameRows() async throws {
        try await W.with { w in
            try await Self.stageWorld(w)
            try await w.transform()
            let nights = W.nights(from: "2025-05-01", count: 40)
            // Day 2: every fourth price changed, one booking cancelled.
            try await w.stageRates(
                nights: nights, price: { nights.firstIndex(of: $0)! % 4 == 0 ? 135 : 120 },
                observedAt: "2025-03-02 06:00Z",
                loadedAt: "2025-03-02 06:01Z")
            try await w.stageAvailability(
                nights: nights, allotment: { _ in 6 }, observedAt: "2025-03-02 06:00Z", loadedAt: "2025-03-02 06:01Z")
            try await w.stageBooking(
                id: "8000", eventType: "cancel",
                body: W.booking(
                    id: "8000", status: 0, checkIn: "2025-05-01", nights: 2, nightly: 100, email: "g0@example.com",
                    changedAt: "2025-03-02T05:00:00Z"),
                otaTime: "2025-03-02 05:00Z", loadedAt: "2025-03-02 07:00Z")
            let day2 = try await w.transform()
            #expect(day2.counts["rates.versions_appended"] == 10)
            #expect(day2.counts["availability.versions_appended"] == 0, "an unchanged observation creates no version")
            let incremental = try await w.factsFingerprint()

            let again = try await w.transform()
            #expect(again.counts["rates.observations"] == 0)
            #expect(try await w.factsFingerprint() == incremental, "running twice changes nothing")

            let rebuilt = try await w.transform(fullRefresh: true)
            #expect(rebuilt.failedChecks.isEmpty, "\(rebuilt.rendered)")
            #expect(try await w.factsFingerprint() == incremental, "full refresh equals the incremental runs")
        }
    }

    @Test func anUnchangedObservationTouchesNoRow() async throws {
        try await W.with { w in
            let nights = W.nights(from: "2025-05-01", count: 3)
            try await w.stageRates(
                nights: nights, price: { _ in 99 }, observedAt: "2025-03-01 06:00Z", loadedAt: "2025-03-01 06:01Z")
            try await w.transform()
            let before = try await w.strings("select ctid::text || xmin::text from facts.rates order by stay_date")
            try await w.stageRates(
                nights: nights, price: { _ in 99 }, observedAt: "2025-03-02 06:00Z", loadedAt: "2025-03-02 06:01Z")
            try await w.transform()
            #expect(
                try await w.strings("select ctid::text || xmin::text from facts.rates order by stay_date") == before)
            // The log still knows it was seen again.
            let seen = try await w.strings(
                "select distinct to_char(last_seen_at at time zone 'UTC', 'MM-DD') from feeds.rates_last_seen")
            #expect(seen == ["03-02"])
        }
    }

    @Test func aLateObservationSplitsTheRunItFallsIn() async throws {
        try await W.with { w in
            let night = ["2025-05-10"]
            try await w.stageRates(
                nights: night, price: { _ in 100 }, observedAt: "2025-03-01 06:00Z", loadedAt: "2025-03-01 06:01Z")
            try await w.stageRates(
                nights: night, price: { _ in 100 }, observedAt: "2025-03-03 06:00Z", loadedAt: "2025-03-03 06:01Z")
            try await w.transform()
            // A fetch from 03-02 lands only on 03-04, with another price.
            try await w.stageRates(
                nights: night, price: { _ in 80 }, observedAt: "2025-03-02 06:00Z", loadedAt: "2025-03-04 06:01Z")
            let summary = try await w.transform()
            #expect(summary.counts["rates.late_cells"] == 1)
            let history = try await w.strings(
                "select concat_ws(' ', version, price, to_char(valid_from at time zone 'UTC', 'DD'), coalesce(to_char(valid_to at time zone 'UTC', 'DD'), '-')) from facts.rates order by valid_from"
            )
            #expect(history == ["1 100.00 01 02", "2 80.00 02 03", "3 100.00 03 -"])
            // Before the late fetch landed, the warehouse knew one unbroken price.
            let known = try await w.strings(
                "select concat_ws(' ', price, coalesce(to_char(valid_to, 'DD'), '-')) from feeds.rates_as_of('2025-03-04 00:00Z')"
            )
            #expect(known == ["100.00 -"])
            #expect(summary.failedChecks.isEmpty)
            let incremental = try await w.factsFingerprint()
            try await w.transform(fullRefresh: true)
            #expect(try await w.factsFingerprint() == incremental)
        }
    }

    @Test func validityNeverOverlapsAndChecksPass() async throws {
        try await W.with { w in
            try await Self.stageWorld(w)
            let summary = try await w.transform()
            #expect(summary.failedChecks.isEmpty, "\(summary.rendered)")
            #expect(summary.checks.contains { $0.name == "rates.no_overlap" && $0.failures == 0 })
            #expect(summary.exitStatus == .success)
            // A first load's 40 new cells were written whole by one statement: their chains are
            // not read back (their values are checked from the batch, see the next test).
            #expect(summary.counts["checks.rate_versions_checked"] == 0, "a first load re-reads no chain")
            // Break a chain by hand: a run that touches nothing looks at no key, so it
            // passes; the full scan (--check-all, weekly in the nightly) must see it.
            try await w.connection.execute(
                "update facts.rates set valid_to = valid_from + interval '1 hour' where stay_date = '2025-05-02'")
            let scoped = try await w.transform()
            #expect(scoped.counts["checks.rate_versions_checked"] == 0)
            #expect(scoped.failedChecks.isEmpty, "\(scoped.rendered)")
            let broken = try await w.transform(checkAll: true)
            #expect(broken.checkedAll)
            #expect(broken.counts["checks.rate_versions_checked"] == 40)
            #expect(broken.failedChecks.map(\.name).contains("rates.no_overlap"))
            #expect(broken.exitStatus == .failure)
        }
    }

    /// Nights are tied to their versions by a check, not a foreign key: a version removed
    /// by hand leaves nights the full scan finds, and a version the transforms drop takes
    /// its nights with it (facts stay what a full refresh gives).
    @Test func nightsWithoutTheirVersionAreFoundByTheChecks() async throws {
        try await W.with { w in
            try await Self.stageWorld(w)
            #expect(try await w.transform().failedChecks.isEmpty)
            try await w.connection.execute("delete from facts.reservations where confirmation_id = '8002'")
            let broken = try await w.transform(checkAll: true)
            #expect(broken.failedChecks.map(\.name).contains("reservation_nights.version"), "\(broken.rendered)")
            #expect(broken.exitStatus == .failure)
        }
    }

    /// No exclusion constraint refuses overlapping versions of a booking as they are written
    /// (it cost most of promoting one): the reservations.no_overlap check finds them.
    @Test func overlappingVersionsOfABookingAreFoundByTheChecks() async throws {
        try await W.with { w in
            try await Self.stageWorld(w)
            try await w.stageBooking(
                id: "8001", eventType: "cancel",
                body: W.booking(
                    id: "8001", status: 0, checkIn: "2025-05-02", nights: 2, nightly: 100, email: "g1@example.com",
                    changedAt: "2025-03-02T05:00:00Z"),
                otaTime: "2025-03-02 05:00Z", loadedAt: "2025-03-02 07:00Z")
            let first = try await w.transform()
            #expect(first.failedChecks.isEmpty, "\(first.rendered)")
            #expect(first.checks.contains { $0.name == "reservations.no_overlap" && $0.failures == 0 })
            // The first version now ends a day after the second began.
            try await w.connection.execute(
                """
                update facts.reservations set valid_to = valid_to + interval '1 day'
                where confirmation_id = '8001' and version = 1
                """)
            let broken = try await w.transform(checkAll: true)
            #expect(broken.failedChecks.map(\.name).contains("reservations.no_overlap"), "\(broken.rendered)")
            #expect(broken.exitStatus == .failure)
        }
    }

    /// Until the session `pid` waits for a lock (`lock`: a fixed condition on pg_locks).
    static func untilWaiting(_ pid: String, on lock: StaticString, in w: W) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while try await w.connection.query(
            "select 1 from pg_locks where pid = $1::int and not granted and \(lock)", [pid]
        ).isEmpty {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
        }
    }

    /// A transform whose rows need a new stay month creates its partition before its own
    /// transaction: readers of facts.rates are not locked out while it runs.
    @Test func aTransformNeedingANewMonthHoldsNoExclusiveLockOnFactsWhileItRuns() async throws {
        try await W.with { w in
            func text(_ sql: String, _ parameters: [String] = []) async throws -> [String] {
                try await w.connection.query(sql, parameters).map { try $0.decode(String.self, at: 0) }
            }
            let partition = "select coalesce(to_regclass('facts.rates_203107')::text, 'none')"
            try await w.stageRates(
                nights: ["2031-07-15"], price: { _ in 99 }, observedAt: "2026-01-01 06:00Z",
                loadedAt: "2026-01-01 06:01Z")
            #expect(try await text(partition) == ["none"])
            let transformer = try await w.database.connect()
            let pid = try await transformer.query("select pg_backend_pid()::text").first!.decode(String.self, at: 0)
            // The checks write ops.dq_results after every transform: held here, the transform
            // stops there, with whatever locks its transforms took.
            let holder = try await w.database.connect()
            try await holder.execute("begin")
            try await holder.execute("lock table ops.dq_results in share mode")
            let run = Task { try await w.transform(on: transformer) }
            try await Self.untilWaiting(pid, on: "relation = 'ops.dq_results'::regclass", in: w)
            #expect(
                try await text(
                    """
                    select mode from pg_locks
                    where pid = $1::int and relation in ('facts.rates'::regclass, 'facts.availability'::regclass)
                      and mode = 'AccessExclusiveLock'
                    """, [pid]) == [], "the transform holds a fact table exclusively")
            #expect(try await text(partition) == ["facts.rates_203107"])
            try await holder.execute("commit")
            await holder.close()
            let summary = try await run.value
            await transformer.close()
            #expect(summary.failedChecks.isEmpty, "\(summary.rendered)")
            #expect(try await text("select count(*)::text from facts.rates where stay_date = '2031-07-15'") != ["0"])
        }
    }

    /// Two sessions that create the same month at once (a promoter and a transform, outside
    /// the transform lock): the one that waited finds the partition made and goes on.
    @Test func aTransformCreatingAMonthAnotherSessionCreatesMeanwhileGoesOn() async throws {
        try await W.with { w in
            try await w.stageRates(
                nights: ["2032-01-15"], price: { _ in 99 }, observedAt: "2026-01-01 06:00Z",
                loadedAt: "2026-01-01 06:01Z")
            let other = try await w.database.connect()
            try await other.execute("begin")
            _ = try await other.query("select facts.ensure_stay_partitions('2032-01-15', '2032-01-15')")
            let transformer = try await w.database.connect()
            let pid = try await transformer.query("select pg_backend_pid()::text").first!.decode(String.self, at: 0)
            let run = Task { try await w.transform(on: transformer) }
            // The transform waits for the other session's lock on facts.rates, taken by its CREATE TABLE.
            try await Self.untilWaiting(pid, on: "true", in: w)
            try await other.execute("commit")
            await other.close()
            let summary = try await run.value
            await transformer.close()
            #expect(summary.failedChecks.isEmpty, "\(summary.rendered)")
            #expect(
                try await w.connection.query("select 1 from facts.rates where stay_date = '2032-01-15'").count >= 1)
        }
    }

    /// The definitions of facts.rates's indexes, their comments, and per partition how many
    /// valid indexes are attached to a valid parent index: what a first load built after its
    /// rows must leave as the migrations made it.
    static func rateIndexes(_ w: W) async throws -> [String] {
        try await w.strings(
            """
            select pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid
                   || ' comment=' || coalesce(obj_description(i.indexrelid, 'pg_class'), '')
            from pg_index i where i.indrelid = 'facts.rates'::regclass
            union all
            select p.inhrelid::regclass::text || ' attached=' || count(*) filter (where pi.indisvalid and ci.indisvalid)
            from pg_inherits p
            left join pg_index ci on ci.indrelid = p.inhrelid
            left join pg_inherits ih on ih.inhrelid = ci.indexrelid
            left join pg_index pi on pi.indexrelid = ih.inhparent and pi.indrelid = 'facts.rates'::regclass
            where p.inhparent = 'facts.rates'::regclass
            group by p.inhrelid
            order by 1
            """)
    }

    /// A first load of many cells into empty facts writes its versions without the
    /// indexes and builds each once afterwards, as the loader role, leaving the indexes
    /// and the facts exactly as the row-by-row path leaves them; smaller loads, and loads
    /// into a table that has rows, keep their indexes.
    @Test func aLargeFirstLoadBuildsTheRateIndexesOnceAfterItsRows() async throws {
        try await W.with { w in
            let nights = W.nights(from: "2025-05-01", count: 40)
            try await w.stageRates(
                nights: nights, price: { _ in 120 }, observedAt: "2025-03-01 06:00Z", loadedAt: "2025-03-01 06:01Z")
            try await w.stageRates(
                nights: nights, price: { nights.firstIndex(of: $0)! % 3 == 0 ? 125 : 120 },
                observedAt: "2025-03-01 07:00Z", loadedAt: "2025-03-01 07:01Z")
            _ = try await w.connection.query("select facts.ensure_stay_partitions('2025-05-01', '2025-06-30')")
            let migrated = try await Self.rateIndexes(w)
            #expect(migrated.count == 5, "three indexes and two partitions: \(migrated)")

            // As the loader role, with the threshold lowered to this load's 80 observations.
            let loader = try await w.database.connect()
            try await loader.execute("set role ota_ingest")
            try await loader.execute("set ota.rate_indexes_after_rows_from = 80")
            let first = try await w.transform(on: loader)
            #expect(first.failedChecks.isEmpty, "\(first.rendered)")
            #expect(first.counts["rates.indexes_built_after_rows"] == 3)
            #expect(try await Self.rateIndexes(w) == migrated)
            #expect(try await w.int("select count(*)::int from ops.deferred_indexes") == 0)
            let bulk = try await w.factsFingerprint()
            #expect(try await w.int("select count(*)::int from facts.rates") == 40 + 14)

            // The statements it runs with the owner's rights are the owner's alone.
            await #expect(throws: PostgresError.self) {
                try await loader.execute("insert into ops.deferred_indexes values (1, 'select 1')")
            }

            // A table with rows keeps its indexes.
            try await w.stageRates(
                nights: nights, price: { _ in 130 }, observedAt: "2025-03-02 06:00Z", loadedAt: "2025-03-02 06:01Z",
                rate: "20002")
            let second = try await w.transform(on: loader)
            #expect(second.counts["rates.indexes_built_after_rows"] == nil)
            await loader.close()

            // Below the threshold (100,000 unless set), a full refresh keeps them too, and gives
            // the same versions as the bulk path.
            let rebuilt = try await w.transform(fullRefresh: true)
            #expect(rebuilt.failedChecks.isEmpty, "\(rebuilt.rendered)")
            #expect(rebuilt.counts["rates.indexes_built_after_rows"] == nil)
            #expect(try await w.factsFingerprint().filter { !$0.contains("20002") } == bulk)
            #expect(try await Self.rateIndexes(w) == migrated)
        }
    }

    @Test func aRunChecksTheKeysItTouched() async throws {
        try await W.with { w in
            try await Self.stageWorld(w)
            #expect(try await w.transform().failedChecks.isEmpty)
            // One cell gets a negative price: the run touches it, so its check sees it.
            try await w.stageRates(
                nights: ["2025-05-03"], price: { _ in -1 }, observedAt: "2025-03-02 06:00Z",
                loadedAt: "2025-03-02 06:01Z")
            let summary = try await w.transform()
            #expect(summary.counts["checks.rate_versions_checked"] == 2, "both versions of the one touched cell")
            #expect(summary.failedChecks.map(\.name) == ["rates.non_negative"])
            #expect(!summary.checkedAll)
        }
    }

    /// A cell that changes in order is checked on the versions this run closed and appended,
    /// as facts.rates stored them (not as the transform meant to write them), and not on its
    /// older, unchanged versions.
    @Test func aChainChangedInOrderIsCheckedAsStored() async throws {
        try await W.with { w in
            for (day, price) in [("2025-03-01", 120.0), ("2025-03-02", 130.0)] {
                try await w.stageRates(
                    nights: ["2025-05-03"], price: { _ in price }, observedAt: "\(day) 06:00Z",
                    loadedAt: "\(day) 06:01Z")
                #expect(try await w.transform().failedChecks.isEmpty)
            }
            // Whatever closes a version from now on stores it ending a second late.
            try await w.connection.execute(
                """
                create function public.close_late() returns trigger language plpgsql as $$
                begin
                    if old.valid_to is null and new.valid_to is not null then
                        new.valid_to := new.valid_to + interval '1 second';
                    end if;
                    return new;
                end $$
                """)
            try await w.connection.execute(
                "create trigger close_late before update on facts.rates for each row execute function public.close_late()"
            )
            try await w.stageRates(
                nights: ["2025-05-03"], price: { _ in 140 }, observedAt: "2025-03-03 06:00Z",
                loadedAt: "2025-03-03 06:01Z")
            let summary = try await w.transform()
            #expect(summary.counts["checks.rate_versions_checked"] == 2, "the closed version and the appended one")
            #expect(summary.failedChecks.map(\.name) == ["rates.no_overlap"], "\(summary.rendered)")
        }
    }

    @Test func aFirstLoadsValuesAreCheckedThoughItsNewChainsAreNotReadBack() async throws {
        try await W.with { w in
            try await w.stageRates(
                nights: ["2025-05-01", "2025-05-02"], price: { $0 == "2025-05-02" ? -1 : 50 },
                observedAt: "2025-03-01 06:00Z", loadedAt: "2025-03-01 06:01Z")
            let summary = try await w.transform()
            #expect(summary.counts["checks.rate_versions_checked"] == 0)
            #expect(summary.failedChecks.map(\.name) == ["rates.non_negative"])
        }
    }

    @Test func unknownCodesAreRegisteredAndFlagged() async throws {
        try await W.with { w in
            try await w.stageRates(
                nights: ["2025-05-01"], price: { _ in 50 }, observedAt: "2025-03-01 06:00Z",
                loadedAt: "2025-03-01 06:01Z",
                rate: "99999", room: "NEW")
            let summary = try await w.transform()
            #expect(summary.autoRegistered == 2)
            #expect(summary.rendered.contains("registered automatically"))
            #expect(summary.failedChecks.isEmpty)
            #expect(
                try await w.int("select count(*)::int from dims.rate_plans where rate_id = '99999' and auto_registered")
                    == 1)
        }
    }

    /// Two sessions registering the same new rooms at once (a promotion and an ARI expansion,
    /// or two expansions) insert them in key order, so they never wait for each other in a
    /// circle. Made, not hoped for: another session holds the first room uncommitted; the
    /// transform must wait there holding none of the others, so that session can then insert
    /// them all and commit. Inserted in any other order, the transform would hold some of them
    /// and one of the two would be rolled back as a deadlock.
    @Test func codesAreRegisteredInKeyOrderSoTwoRegistrationsNeverDeadlock() async throws {
        try await W.with { w in
            let rooms = (1...40).map { String(format: "Z%02d", $0) }
            _ = try await w.connection.query("select staging.ensure_load_partitions('2025-03-01')")
            try await w.connection.execute(
                """
                insert into staging.rate_observations (source, stream, property_code, rate_id, room_code, stay_date, adults,
                    children, channel, price, currency, closeout, min_stay, observed_at, load_date, batch_id, run_id, raw, loaded_at)
                select 'webhotelier', 'rates', 'HTL001', '20001', room, '2025-05-01', 2, 0, '', 50, 'EUR', false, 1,
                       '2025-03-01 06:00Z', '2025-03-01', 'batch', 'test-run', '{}', '2025-03-01 06:01Z'
                from unnest($1::text[]) room
                """, ["{" + rooms.joined(separator: ",") + "}"])
            let other = try await w.database.connect()
            try await other.execute("begin")
            try await other.execute(
                "insert into dims.rooms (property_code, room_code, name) values ('HTL001', $1, $1)", [rooms[0]])
            let transformer = try await w.database.connect()
            let pid = try await transformer.query("select pg_backend_pid()::text").first!.decode(String.self, at: 0)
            let run = Task { try await w.transform(on: transformer) }
            // It waits for the other session's transaction, on its first room.
            try await Self.untilWaiting(pid, on: "locktype = 'transactionid'", in: w)
            try await other.execute(
                """
                insert into dims.rooms (property_code, room_code, name)
                select 'HTL001', room, room from unnest($1::text[]) room order by room desc
                """, ["{" + rooms.dropFirst().joined(separator: ",") + "}"])
            try await other.execute("commit")
            await other.close()
            let summary = try await run.value
            await transformer.close()
            #expect(summary.failedChecks.isEmpty, "\(summary.rendered)")
            #expect(summary.autoRegistered == 0, "the other session registered every room first")
            #expect(
                try await w.int(
                    "select count(*)::int from facts.rates where property_code = 'HTL001' and room_code like 'Z%'")
                    == 40)
        }
    }

    /// Contention is made, not hoped for: a third session locks ops.transform_state, which a
    /// promotion updates first, so whichever transform takes the transform lock stops inside its
    /// promotion still holding it; the server must then show the other waiting for that lock.
    @Test func twoConcurrentTransformsNeverMakeTwoCurrentRows() async throws {
        try await W.with { w in
            try await Self.stageWorld(w)
            let other = try await w.database.connect()
            let blocker = try await w.database.connect()
            let observer = try await w.database.connect()
            try await blocker.execute("begin")
            try await blocker.execute("lock table ops.transform_state in exclusive mode")
            let pids = (await w.connection.backendPID, await other.backendPID)
            async let first = w.transform()
            async let second = w.transform(on: other)
            // (wait event, holds the transform lock) of both transforms: one inside, one waiting at the door.
            let contended = try await ServerActivity.poll(timeout: .seconds(30)) {
                let states = try await observer.query(
                    """
                    select a.wait_event || ' ' || exists (
                               select 1 from pg_locks l
                               where l.pid = a.pid and l.locktype = 'advisory' and l.granted
                                 and ((l.classid::bigint << 32) | l.objid::bigint) = $3)
                    from pg_stat_activity a where a.pid in ($1, $2) and a.state = 'active' order by 1
                    """, [pids.0, pids.1, TransformRunner.lockKey]
                ).map { try $0.decode(String?.self, at: 0) }
                return states == ["advisory false", "relation true"]
            }
            try await blocker.execute("commit")
            let results = try await [first, second]
            #expect(contended, "one transform should hold the transform lock while the other waits for it")
            await other.close()
            await blocker.close()
            await observer.close()
            #expect(results.allSatisfy { $0.failedChecks.isEmpty })
            #expect(
                results.map { $0.counts["rates.observations"] ?? 0 }.sorted() == [0, 40],
                "one promotes, the other finds nothing new")
            #expect(
                try await w.int(
                    "select count(*)::int from (select 1 from facts.rates where is_current group by property_code, rate_id, room_code, stay_date, adults, children, channel having count(*) > 1) d"
                ) == 0)
            #expect(try await w.int("select count(*)::int from facts.reservations where is_current") == 5)
        }
    }
}

@Suite struct PrivacyAndRetentionTests {
    typealias W = WarehouseFixture

    /// Rows of every table and view outside staging and dead letters whose text contains `needle`.
    static func occurrencesOutsideStaging(_ w: W, _ needle: String) async throws -> [String] {
        let relations = try await w.strings(
            """
            select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname in ('facts', 'dims', 'feeds', 'ops', 'recon') and c.relkind in ('r', 'p', 'v')
              and not c.relispartition and (n.nspname, c.relname) <> ('ops', 'dead_letters') order by 1
            """)
        var found: [String] = []
        for relation in relations {
            // Relation names come from the catalog, quoted by format('%I').
            let hits = try await w.int(
                "select count(*)::int from \(relation) t where t::text ilike '%' || $1 || '%'", [needle])
            if hits > 0 { found.append(relation) }
        }
        return found
    }

    @Test func guestNameAndEmailStayInStagingAndVanishOnErasure() async throws {
        try await W.with { w in
            let id = "9001"
            let email = "zoe.quist@example.org"
            try await w.stageBooking(
                id: id, eventType: "new",
                body: W.booking(
                    id: id, status: 1, checkIn: "2025-06-01", nights: 2, nightly: 100, email: email,
                    lastName: "Quistgaard", changedAt: "2025-03-01T08:00:00Z"),
                otaTime: "2025-03-01 08:00Z", loadedAt: "2025-03-01 08:05Z")
            try await w.stageBooking(
                id: id, eventType: "update",
                body: W.booking(
                    id: id, status: 1, checkIn: "2025-06-01", nights: 3, nightly: 100, email: email,
                    lastName: "Quistgaard", changedAt: "2025-03-02T08:00:00Z"),
                otaTime: "2025-03-02 08:00Z", loadedAt: "2025-03-02 08:05Z")
            try await w.connection.execute(
                """
                insert into ops.dead_letters (source, stream, property_code, record_key, raw, raw_hash, reason, run_id)
                values ('webhotelier', 'reservations', 'HTL003', null, convert_to($1, 'UTF8'), 'h', 'bad date', 'test-run')
                """, ["{\"id\": \(id), \"clientInfo\": {\"email\": \"\(email)\", \"lastName\": \"Quistgaard\"}}"])
            try await w.transform()
            for needle in [email, "Quistgaard"] {
                #expect(try await Self.occurrencesOutsideStaging(w, needle).isEmpty, "\(needle) leaked")
            }
            #expect(
                try await w.int(
                    "select count(distinct guest_hash)::int from facts.reservations where confirmation_id = $1", [id])
                    == 1)
            let facts = try await w.factsFingerprint()

            let outcome = try await CommandLineRunner.run([
                "erase-guest", "--reservation", id, "--database-url", w.database.url,
            ])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("2 staged versions, 1 dead letters"))
            for needle in [email, "Quistgaard", "555 0100"] {
                #expect(
                    try await w.int(
                        "select count(*)::int from staging.reservation_events where data::text ilike '%' || $1 || '%' or encode(raw, 'escape') ilike '%' || $1 || '%'",
                        [needle]) == 0)
                #expect(
                    try await w.int(
                        "select count(*)::int from ops.dead_letters where encode(raw, 'escape') ilike '%' || $1 || '%'",
                        [needle]) == 0)
            }
            #expect(try await w.factsFingerprint() == facts, "facts are intact")
            try await w.transform(fullRefresh: true)
            #expect(try await w.factsFingerprint() == facts, "and a full refresh rebuilds them the same")
        }
    }

    @Test func analystsReadFactsButNeverStagingOrDeadLetters() async throws {
        try await W.with { w in
            try await TransformDeterminismTests.stageWorld(w)
            try await w.transform()
            let user = "analyst_" + w.database.name
            try await w.connection.execute("create role \(user) login in role ota_analyst")
            defer { Task { try? await w.connection.execute("drop role if exists \(user)") } }
            try await w.connection.execute("set role \(user)")
            #expect(try await w.int("select count(*)::int from facts.rates") == 40)
            #expect(try await w.int("select count(*)::int from feeds.rates_last_seen") == 40)
            #expect(try await w.int("select count(*)::int from feeds.reservations_as_of(now())") == 5)
            // What channel managers pushed (no guest data): the values in force, not the raw messages.
            #expect(try await w.int("select count(*)::int from staging.ari_latest") == 0)
            for forbidden in [
                "staging.reservation_events", "ops.dead_letters", "ops.settings", "staging.ari_messages",
                "staging.ari_observations", "staging.rate_observations",
            ] {
                await #expect(throws: PostgresError.self) {
                    _ = try await w.connection.query("select 1 from \(forbidden) limit 1")
                }
            }
            try await w.connection.execute("reset role")
            try await w.connection.execute("drop owned by \(user)")
        }
    }

    @Test func purgeDropsOldLoadDatePartitionsOnly() async throws {
        try await W.with { w in
            try await w.stageRates(
                nights: ["2025-05-01"], price: { _ in 1 }, observedAt: "2020-01-01 06:00Z",
                loadedAt: "2020-01-01 06:01Z")
            let today = try await w.strings("select to_char(now() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS')")[0]
            try await w.stageRates(nights: ["2025-05-01"], price: { _ in 2 }, observedAt: today, loadedAt: today)
            try await w.transform()
            let outcome = try await CommandLineRunner.run([
                "purge", "--older-than", "30", "--database-url", w.database.url,
            ])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("dropped staging.rate_observations_20200101"))
            #expect(try await w.int("select count(*)::int from staging.rate_observations") == 1)
            #expect(try await w.int("select count(*)::int from facts.rates") == 2, "facts keep their versions")
            #expect(
                try await CommandLineRunner.run([
                    "purge", "--older-than", "0", "--database-url", w.database.url,
                ]).status == 2)
        }
    }
}

@Suite struct TransformCommandTests {
    @Test func seedAndTransformFromTheCommandLine() async throws {
        try await TestDatabase.with { db in
            #expect(try await CommandLineRunner.run(["migrate", "--database-url", db.url]).status == 0)
            let seed = try await CommandLineRunner.run(
                [
                    "seed", "--dir", WarehouseFixture.repositoryRoot.appendingPathComponent("seeds").path,
                    "--database-url", db.url,
                ])
            #expect(seed.status == 0, "\(seed.stderr)")
            #expect(seed.stdout.contains("seeded properties.csv: 5 rows"))
            let transform = try await CommandLineRunner.run(["transform", "--database-url", db.url])
            #expect(transform.status == 0, "\(transform.stderr)")
            #expect(transform.stdout.contains("checks: 16 of 16 passed"))
            let refresh = try await CommandLineRunner.run([
                "transform", "--full-refresh", "--database-url", db.url,
            ])
            #expect(refresh.status == 0, "\(refresh.stderr)")
            #expect(refresh.stdout.contains("(full refresh)"))
            let badDir = try await CommandLineRunner.run([
                "seed", "--dir", "/nonexistent", "--database-url", db.url,
            ])
            #expect(badDir.status == 2)
            #expect(badDir.stderr.contains("fix:"))
        }
    }
}
