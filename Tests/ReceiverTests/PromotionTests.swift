import Foundation
import HTTPClient
import OTAIngest
import PostgresClient
import Receiver
import Synchronization
import TestSupport
import Testing

/// Continuous promotion in serve: what is pushed reaches facts and is announced on
/// ota_ingest_facts, facts stay what a full refresh of the same staging gives (under bursts,
/// SIGKILL, a transform running beside it), a poison row is set aside without stopping the
/// rest, and as-of exports never show a version before it landed. Every wait is on an
/// announcement or on a row in the database, never on a clock.
@Suite struct PromotionTests {
    /// A session that LISTENs on the facts channel.
    final class FactsListener: Sendable {
        let connection: PostgresConnection

        private init(_ connection: PostgresConnection) { self.connection = connection }

        static func start(_ url: String) async throws -> FactsListener {
            let connection = try await PostgresConnection.connect(url)
            try await connection.listen(FactsAnnouncement.channel)
            return FactsListener(connection)
        }

        /// The first announcement `accept` takes; fails the test if none comes in `limit`
        /// (a safety net for a broken promoter, not a synchronisation).
        @discardableResult
        func next(
            within limit: Duration = .seconds(180), where accept: (FactsAnnouncement) -> Bool
        ) async throws -> FactsAnnouncement {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                for notification in try await connection.notifications(waitingUpTo: .seconds(1)) {
                    let announcement = try FactsAnnouncement.decode(notification.payload)
                    #expect(notification.payload.utf8.count < 8000)
                    if accept(announcement) { return announcement }
                }
            }
            Issue.record("no announcement on \(FactsAnnouncement.channel) within \(limit)")
            throw CancellationError()
        }

        func close() async { await connection.close() }
    }

    final class Failures: Sendable {
        let count = Atomic<Int>(0)
    }

    static func announces(_ stream: String, _ property: String) -> (FactsAnnouncement) -> Bool {
        { $0.concerns(stream: stream, property: property) }
    }

    /// Facts as a full refresh of the same staging gives them, beside facts as they are.
    static func factsAndFullRefresh(_ url: String) async throws -> (incremental: [String], refreshed: [String]) {
        let incremental = try await factsFingerprint(url)
        let connection = try await PostgresConnection.connect(url)
        let summary = try await TransformRunner().run(connection, fullRefresh: true)
        await connection.close()
        #expect(summary.failedChecks.isEmpty)
        return (incremental, try await factsFingerprint(url))
    }

    static func factsFingerprint(_ url: String) async throws -> [String] {
        let connection = try await PostgresConnection.connect(url)
        var lines: [String] = []
        for table in [
            "facts.reservations", "facts.reservation_nights", "facts.reservation_transactions", "facts.availability",
            "facts.rates",
        ] {
            // Table names come from the fixed list above, never from input.
            lines += try await connection.query("select t::text from \(table) t order by 1").map {
                "\(table) " + (try $0.decode(String.self, at: 0))
            }
        }
        await connection.close()
        return lines
    }

    /// Polls a condition on the database until it holds; fails the test after `limit` (a
    /// safety net for a broken promoter, not a synchronisation).
    static func until(within limit: Duration = .seconds(180), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return }
        }
        Issue.record("the condition did not hold within \(limit)")
        throw CancellationError()
    }

    static func status(_ h: ReceiverHarness, property: String?) async throws -> String {
        let connection = try await h.db.connect()
        defer { Task { await connection.close() } }
        return try await StatusReport.json(property: property, on: connection)
    }

    static func fast(_ serve: inout ServeConfig) { serve.promoteInterval = .milliseconds(50) }

    static func push(_ h: ReceiverHarness, _ body: [UInt8], session: HTTPSession = HTTPSession()) async throws -> Int {
        try await h.send(
            "POST", "/webhooks/webhotelier",
            headers: ["Content-Type": "application/json", "Authorization": ReceiverHarness.basicHeader], body: body,
            session: session
        ).status
    }

    /// A signed rate update, its OTA time `event` seconds into 2026, for one of 28 nights.
    static func rate(_ h: ReceiverHarness, event: Int, session: HTTPSession) async throws -> Int {
        let time = String(format: "%02d:%02d:%02d", event / 3600, event / 60 % 60, event % 60)
        let body = Array(
            #"{"event_id":"burst-\#(event)","property_id":"HTL001","rate_plan_code":"20003","room_code":"DBL","base_rate":\#(100 + event % 50).50,"currency":"EUR","effective_date":"2026-03-\#(String(format: "%02d", 1 + event % 28))","event_timestamp":"2026-01-01T\#(time)Z"}"#
                .utf8)
        return try await h.send(
            "POST", "/webhooks/ota/acme",
            headers: [
                "Content-Type": "application/json",
                "X-OTA-Signature": TestSigning.hmacHex(body, secret: ReceiverHarness.hmacSecret),
            ], body: body, session: session
        ).status
    }

    /// A row the transforms refuse (a price that is not a number), committed in staging in a
    /// transaction of its own as another loader (an older release's, say) could have: the
    /// receiver itself refuses such a body before storing it.
    static func stagePoison(_ h: ReceiverHarness) async throws {
        let connection = try await h.db.connect()
        try await connection.execute(
            """
            insert into staging.reservation_events (source, property_code, confirmation_id, event_type, origin,
                content_hash, raw, data, batch_id, run_id)
            select 'webhotelier', 'HTL001', '666', 'new', 'backfill', md5(d::text), convert_to(d::text, 'UTF8'), d,
                   'poison', 'poison'
            from (select '{"id":666,"property":"HTL001","status":1,"roomStay":{"from":"2026-05-01","to":"2026-05-03"},"pricing":{"price":"n/a"}}'::jsonb d) x
            """)
        await connection.close()
    }

    /// A booking version as a PUSH of `type`, with its OTA time in changes[].date.
    static func version(id: Int, type: String, status: Int = 1, otaTime: String, to: String = "2026-05-03") -> [UInt8] {
        Array(
            #"{"id":\#(id),"type":"\#(type)","data":{"id":\#(id),"property":"HTL001","status":\#(status),"roomStay":{"from":"2026-05-01","to":"\#(to)"},"bookInfo":{"book_date":"2026-04-01T08:00:00Z"},"changes":[{"date":"\#(otaTime)"}],"pricing":{"price":240,"currency":"EUR"}}}"#
                .utf8)
    }

    @Test func aPushIsInFactsWithItsNightsAndAnnounced() async throws {
        try await ReceiverHarness.with(serve: Self.fast) { h in
            let listener = try await FactsListener.start(h.db.url)
            #expect(try await Self.push(h, pushJSON(id: 4242)) == 200)
            let announcement = try await listener.next(where: Self.announces("reservations", "HTL001"))
            await listener.close()
            #expect(announcement.scopes.contains { $0.source == "webhotelier" && $0.versions >= 1 })
            #expect(announcement.horizon != nil)
            // Announced after the commit: the booking and its two nights are there already.
            #expect(
                try await h.strings(
                    "select status || '|' || (valid_to is null) from facts.reservations where confirmation_id = '4242'")
                    == ["confirmed|true"])
            #expect(
                try await h.strings(
                    "select business_date::text from facts.reservation_nights where confirmation_id = '4242' order by 1"
                )
                    == ["2026-05-01", "2026-05-02"])
            // Freshness: per scope in status and the feed, and the latency histograms.
            #expect(
                try await h.int(
                    "select count(*) from feeds.property_health where source = 'webhotelier' and stream = 'reservations' and property_code = 'HTL001' and last_promoted_at is not null"
                ) == 1)
            let status = try await Self.status(h, property: "HTL001")
            #expect(status.contains(#""stream":"reservations""#) && status.contains("landed_to_fact_seconds"))
            let metrics = h.receiver.metricsText
            #expect(metrics.contains("ota_facts_answered_to_fact_seconds_count 1"))
            #expect(metrics.contains("ota_promoter_batch_versions_count"))
        }
    }

    @Test func aBurstOfPushesAndRateUpdatesEndsWithFactsEqualToAFullRefresh() async throws {
        try await ReceiverHarness.with(serve: Self.fast) { h in
            let listener = try await FactsListener.start(h.db.url)
            let failures = Failures()
            // 2,000 requests from 8 clients: 1,250 new bookings, 250 cancellations of them, 500 rate updates.
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<8 {
                    group.addTask {
                        let session = HTTPSession()
                        for n in 0..<250 {
                            let i = client * 250 + n
                            let status: Int
                            switch i % 8 {
                            case 0, 4:
                                status = (try? await Self.rate(h, event: i, session: session)) ?? -1
                            case 3:
                                let cancelled = pushJSON(id: 100_000 + i - 1, type: "cancel", status: 0)
                                status = (try? await Self.push(h, cancelled, session: session)) ?? -1
                            default:
                                status = (try? await Self.push(h, pushJSON(id: 100_000 + i), session: session)) ?? -1
                            }
                            if status != 200 { failures.count.add(1, ordering: .relaxed) }
                        }
                    }
                }
            }
            #expect(failures.count.load(ordering: .relaxed) == 0)
            // Announcements come in commit order: once the marker pushed last is announced,
            // everything answered before it is in facts.
            let marker = h.sandbox.accounts().map(\.code).first { $0 != "HTL001" }!
            #expect(try await Self.push(h, pushJSON(id: 999_999, property: marker)) == 200)
            try await listener.next(where: Self.announces("reservations", marker))
            await listener.close()
            #expect(
                try await h.int(
                    "select count(distinct confirmation_id) from facts.reservations where confirmation_id <> '999999'")
                    == 1250)
            #expect(try await h.int("select count(*) from facts.reservations where status = 'cancelled'") == 250)
            #expect(try await h.int("select count(*) from facts.rates where source = 'acme'") > 0)
            let (incremental, refreshed) = try await Self.factsAndFullRefresh(h.db.url)
            #expect(incremental.count == refreshed.count)
            #expect(incremental == refreshed)
        }
    }

    @Test func sigkillOfServeMidPromotionThenARestartLosesAndDoublesNothing() async throws {
        let trials = Torture.trials(short: 3, full: 10)
        var violations = 0
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            _ = try await Migrator().migrate(connection)
            await connection.close()
            let watcher = try await db.connect()
            var acknowledged = Set<Int>()
            for trial in 0..<trials {
                let port = try LoopbackPort.freeForServer()
                let serve = try await Self.startServe(port: port, databaseURL: db.url)
                let load = CrashTests.Load()
                let clients = Task {
                    await load.run("http://127.0.0.1:\(port)", clients: 4, firstId: 1 + trial * 100_000)
                }
                await load.waitFor(Int.random(in: 20...200))
                // Mid-promotion: the promoter's session is inside its transaction.
                try await Self.until {
                    try await !watcher.query(
                        """
                        select 1 from pg_stat_activity
                        where datname = current_database() and application_name = 'ota-ingest promote' and xact_start is not null
                        """
                    ).isEmpty
                }
                serve.kill()
                _ = try await serve.wait()
                load.stopping.store(true, ordering: .relaxed)
                await clients.value
                acknowledged.formUnion(load.acknowledged.withLock { Set($0) })
            }
            await watcher.close()
            // A restart promotes what the killed ones left; the marker's announcement says it has.
            let port = try LoopbackPort.freeForServer()
            let serve = try await Self.startServe(port: port, databaseURL: db.url)
            let listener = try await FactsListener.start(db.url)
            let response = try await HTTPSession().send(
                HTTPClientRequest(
                    method: "POST", url: "http://127.0.0.1:\(port)/webhooks/webhotelier",
                    headers: ["Content-Type": "application/json", "Authorization": ReceiverHarness.basicHeader],
                    body: pushJSON(id: 9_999_999, property: "HTL002")))
            #expect(response.status == 200)
            try await listener.next(where: Self.announces("reservations", "HTL002"))
            await listener.close()
            kill(serve.pid, SIGTERM)
            _ = try await serve.wait()
            let inFacts = Set(
                try await db.strings("select distinct confirmation_id from facts.reservations").compactMap { Int($0) })
            let lost = acknowledged.subtracting(inFacts)
            #expect(lost.isEmpty, "acknowledged, not in facts: \(lost.count)")
            let doubled = try await db.int(
                "select count(*) from (select 1 from facts.reservations where valid_to is null group by confirmation_id, source having count(*) > 1) d"
            )
            #expect(doubled == 0)
            let (incremental, refreshed) = try await Self.factsAndFullRefresh(db.url)
            #expect(incremental == refreshed)
            violations = lost.count + doubled + (incremental == refreshed ? 0 : 1)
        }
        Torture.record(
            "SIGKILL of serve mid-promotion, then a restart", trials: trials, violations: violations,
            note: "every 200 in facts, none twice, facts equal a full refresh")
    }

    static func startServe(port: Int, databaseURL: String) async throws -> ChildProcess {
        let config = try CrashTests.configFile(port: port)
        try (try String(contentsOf: config, encoding: .utf8) + "\npromote_interval_ms = 20\n").write(
            to: config, atomically: true, encoding: .utf8)
        let child = try ChildProcess(
            ["serve", "--config", config.path, "--database-url", databaseURL],
            environment: [
                "PUSH_PASSWORD": ReceiverHarness.basic.password, "WH_HTL001": "wh:unused", "WH_HTL002": "wh:unused",
            ])
        let session = HTTPSession()
        while true {
            if let answer = try? await session.send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz")),
                answer.status == 200
            {
                return child
            }
            guard child.isRunning else {
                let outcome = try await child.wait()
                Issue.record("serve exited \(outcome.status): \(outcome.stderr)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The one-promoter rule across processes: while another session holds the transform's
    /// lock (a nightly's transform), the promoter waits on it and promotes nothing.
    @Test func promotionWaitsWhileATransformHoldsTheLock() async throws {
        try await ReceiverHarness.with(serve: Self.fast) { h in
            let listener = try await FactsListener.start(h.db.url)
            let holder = try await h.db.connect()
            _ = try await holder.query("select pg_advisory_lock($1)", [TransformRunner.lockKey])
            #expect(try await Self.push(h, pushJSON(id: 4242)) == 200)
            // The promoter's session queues behind the lock.
            try await Self.until {
                try await h.strings(
                    """
                    select count(*)::text from pg_locks l join pg_stat_activity a using (pid)
                    where l.locktype = 'advisory' and not l.granted and a.application_name = 'ota-ingest promote'
                    """) == ["1"]
            }
            #expect(try await h.strings("select confirmation_id from facts.reservations") == [])
            _ = try await holder.query("select pg_advisory_unlock($1)", [TransformRunner.lockKey])
            await holder.close()
            try await listener.next(where: Self.announces("reservations", "HTL001"))
            await listener.close()
            #expect(try await h.strings("select confirmation_id from facts.reservations") == ["4242"])
        }
    }

    /// A batch whose rates fall in a month without partitions gets them created before it
    /// starts, in a transaction of its own: a partition created inside the batch would hold
    /// facts.rates under an exclusive lock, stalling every reader, until the batch commits.
    @Test func aBatchNeedingANewMonthHoldsNoExclusiveLockOnFactsWhileItRuns() async throws {
        try await ReceiverHarness.with(serve: Self.fast) { h in
            let listener = try await FactsListener.start(h.db.url)
            #expect(try await h.strings("select coalesce(to_regclass('facts.rates_203107')::text, 'none')") == ["none"])
            // The batch's checks write ops.dq_results, after every transform: held here, the
            // batch stops there, with whatever locks its transforms took.
            let holder = try await h.db.connect()
            try await holder.execute("begin")
            try await holder.execute("lock table ops.dq_results in share mode")
            let body = Array(
                #"{"event_id":"far-month","property_id":"HTL001","rate_plan_code":"20003","room_code":"DBL","base_rate":120.50,"currency":"EUR","effective_date":"2031-07-15","event_timestamp":"2026-01-01T10:00:00Z"}"#
                    .utf8)
            let status = try await h.send(
                "POST", "/webhooks/ota/acme",
                headers: [
                    "Content-Type": "application/json",
                    "X-OTA-Signature": TestSigning.hmacHex(body, secret: ReceiverHarness.hmacSecret),
                ], body: body
            ).status
            #expect(status == 200)
            try await Self.until {
                try await h.strings(
                    """
                    select count(*)::text from pg_locks l join pg_stat_activity a using (pid)
                    where l.relation = 'ops.dq_results'::regclass and not l.granted
                      and a.application_name = 'ota-ingest promote'
                    """) == ["1"]
            }
            #expect(
                try await h.strings(
                    """
                    select l.mode from pg_locks l join pg_stat_activity a using (pid)
                    where l.relation in ('facts.rates'::regclass, 'facts.availability'::regclass)
                      and l.mode = 'AccessExclusiveLock' and a.application_name = 'ota-ingest promote'
                    """) == [])
            #expect(
                try await h.strings("select coalesce(to_regclass('facts.rates_203107')::text, 'none')")
                    == ["facts.rates_203107"])
            try await holder.execute("commit")
            await holder.close()
            try await listener.next(where: Self.announces("rates", "HTL001"))
            await listener.close()
            #expect(try await h.int("select count(*) from facts.rates where stay_date = '2031-07-15'") >= 1)
        }
    }

    @Test func aTransformStartedWhilePromotionRunsLeavesTheSameFacts() async throws {
        try await ReceiverHarness.with(serve: Self.fast) { h in
            let listener = try await FactsListener.start(h.db.url)
            let load = CrashTests.Load()
            let clients = Task { await load.run(h.baseURL, clients: 4, firstId: 1) }
            // Promotion is running: it has announced what the load pushed.
            try await listener.next(where: Self.announces("reservations", "HTL001"))
            let connection = try await h.db.connect()
            let summary = try await TransformRunner().run(connection)
            await connection.close()
            #expect(summary.failedChecks.isEmpty)
            // And it goes on after the transform: more is announced.
            try await listener.next(where: Self.announces("reservations", "HTL001"))
            load.stopping.store(true, ordering: .relaxed)
            await clients.value
            let marker = h.sandbox.accounts().map(\.code).first { $0 != "HTL001" }!
            #expect(try await Self.push(h, pushJSON(id: 999_999_999, property: marker)) == 200)
            try await listener.next(where: Self.announces("reservations", marker))
            await listener.close()
            let acknowledged = load.acknowledged.withLock { Set($0.map(String.init)) }
            let inFacts = Set(try await h.strings("select distinct confirmation_id from facts.reservations"))
            #expect(acknowledged.subtracting(inFacts).isEmpty)
            let (incremental, refreshed) = try await Self.factsAndFullRefresh(h.db.url)
            #expect(incremental == refreshed)
        }
    }

    @Test func aPoisonRowIsSetAsideAndEverythingElseKeepsFlowing() async throws {
        try await ReceiverHarness.with(serve: Self.fast) { h in
            let listener = try await FactsListener.start(h.db.url)
            try await Self.stagePoison(h)
            func setAside() async throws -> [String] {
                try await h.strings(
                    "select stream || '|' || row_count || '|' || failures || '|' || retry_due from ops.promotion_set_aside where promoted_at is null"
                )
            }
            try await Self.until { try await setAside() == ["reservations|1|3|false"] }
            #expect(try await Self.push(h, pushJSON(id: 667)) == 200)
            try await listener.next(where: Self.announces("reservations", "HTL001"))
            #expect(try await h.strings("select confirmation_id from facts.reservations") == ["667"])
            #expect(h.receiver.metricsText.contains("ota_promoter_set_aside_rows 1"))
            let status = try await Self.status(h, property: nil)
            #expect(status.contains(#""set_aside": [{"stream":"reservations""#))
            // A transform that succeeds makes them due; the promoter tries them again, and
            // the same rows fail again: set aside once more, the rest still flowing.
            let connection = try await h.db.connect()
            #expect(try await TransformRunner().run(connection).failedChecks.isEmpty)
            await connection.close()
            try await Self.until { try await setAside() == ["reservations|1|6|false"] }
            #expect(try await Self.push(h, pushJSON(id: 668)) == 200)
            try await listener.next(where: Self.announces("reservations", "HTL001"))
            await listener.close()
            #expect(try await h.strings("select confirmation_id from facts.reservations order by 1") == ["667", "668"])
        }
    }

    /// Six pushes, each its own landing transaction, promoted as one micro-batch that fails
    /// for one of them: the batch is split until only the poison's transaction stays aside.
    @Test func aFailedBatchIsSplitUntilOnlyTheFailingLandingStaysAside() async throws {
        try await ReceiverHarness.with(serve: { $0.promote = false }) { h in
            // One request at a time: each answered after its own commit, so each its own transaction.
            for body in [pushJSON(id: 701), pushJSON(id: 702)] { #expect(try await Self.push(h, body) == 200) }
            try await Self.stagePoison(h)
            for body in [pushJSON(id: 703), pushJSON(id: 704)] { #expect(try await Self.push(h, body) == 200) }
            #expect(
                try await h.strings("select count(distinct landed_xid)::text from staging.reservation_events") == ["5"])
            let promoter = try ContinuousPromoter(databaseURL: h.db.url, runID: "split-test")
            var steps = 0
            var setAside = 0
            stepping: while steps < 60 {
                steps += 1
                switch await promoter.step() {
                case .idle: break stepping
                case .setAside: setAside += 1
                case .unavailable(let error): Issue.record("promoter unavailable: \(error)")
                default: continue
                }
            }
            await promoter.close()
            // 5 transactions: {701, 702, poison} fails, then {701, 702} passes, {poison} fails alone.
            #expect(setAside == 3)
            #expect(
                try await h.strings("select confirmation_id from facts.reservations order by 1") == [
                    "701", "702", "703", "704",
                ])
            #expect(
                try await h.strings(
                    """
                    select a.row_count || '|' || (a.split_group is null) || '|' || e.confirmation_id
                    from ops.promotion_set_aside a join staging.reservation_events e on e.landed_xid = a.landed_xid
                    where a.promoted_at is null
                    """) == ["1|true|666"])
        }
    }

    @Test func anAsOfExportBeforeAPushedLateVersionDoesNotContainIt() async throws {
        try await ReceiverHarness.with(serve: Self.fast) { h in
            let listener = try await FactsListener.start(h.db.url)
            #expect(try await Self.push(h, Self.version(id: 5150, type: "new", otaTime: "2026-04-01T10:00:00Z")) == 200)
            try await listener.next(where: Self.announces("reservations", "HTL001"))
            let before = try await h.strings("select now()::text")[0]
            // Late: its OTA time is before the version the warehouse already has.
            let late = Self.version(id: 5150, type: "update", otaTime: "2026-04-01T09:00:00Z", to: "2026-05-04")
            #expect(try await Self.push(h, late) == 200)
            try await listener.next(where: Self.announces("reservations", "HTL001"))
            await listener.close()
            // In facts, in its place by OTA time...
            #expect(
                try await h.strings(
                    "select check_out::text from facts.reservations where confirmation_id = '5150' order by valid_from")
                    == ["2026-05-04", "2026-05-03"])
            // ...and never in the past: as of before it landed, only the version known then.
            #expect(
                try await h.strings(
                    "select check_out || '|' || version || '|' || is_current from feeds.reservations_as_of($1::timestamptz) where confirmation_id = '5150'",
                    [before]) == ["2026-05-03|1|true"])
        }
    }

    @Test func anAnnouncementStaysWholeJSONUnderTheLimit() throws {
        let promoted = (0..<3000).map { n in
            PromotedScope(
                stream: n % 2 == 0 ? "rates" : "availability", source: "source-\(n % 7)",
                property: "PROPERTY-\(n)", versions: 3, lastEventAt: nil, lastLoadedAt: Date())
        }
        let announcement = FactsAnnouncement(horizon: Date(), promoted: promoted)
        let payload = announcement.payload()
        #expect(payload.utf8.count < FactsAnnouncement.payloadLimit)
        let decoded = try FactsAnnouncement.decode(payload)
        #expect(decoded.summarised)
        #expect(decoded.scopes.reduce(0) { $0 + $1.versions } == 9000)
        #expect(decoded.scopes.reduce(0) { $0 + $1.propertyCount } == 3000)
        let small = FactsAnnouncement(horizon: nil, promoted: Array(promoted.prefix(2))).payload()
        #expect(try FactsAnnouncement.decode(small).scopes.map(\.properties) == [["PROPERTY-0"], ["PROPERTY-1"]])
    }
}
