import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// Push to fact on the cluster: `ota-ingest serve` with continuous promotion on, against the
/// distributed warehouse, receiving the sandbox's webhook deliveries (WebHotelier PUSH with
/// Basic auth, signed rate updates) and a burst of bookings from the test through the
/// receiver's group commit. It ends when the promotion of the last push is announced on
/// the facts channel; the facts then equal one server's fed the same pushes, and a full
/// refresh of the same staging.
extension CitusTests {
    static let pushPassword = "push-secret-1"
    static let rateSecret = "rate-secret-1"
    /// Minutes of the world the sandbox delivers, one minute at a time (see `pushedDay`).
    static let pushedMinutes = 300
    /// A property only the last push names.
    static let markerProperty = "HTL900"

    /// The test world, with every booking action PUSHed (JSON, Basic auth) and every price
    /// change sent as signed rate updates (source acme) to serve on `port`.
    static func pushWorld(port: Int) -> (inout SandboxConfiguration) -> Void {
        { c in
            CitusTests.world(&c)
            c.faults = FaultSettings()
            c.webhookRetry = WebhookRetryPolicy(maxAttempts: 3, initialBackoffMilliseconds: 50)
            c.webhooks = [
                WebhookRegistration(
                    mode: .push, url: "http://127.0.0.1:\(port)/webhooks/webhotelier", username: "wh-push",
                    password: CitusTests.pushPassword),
                WebhookRegistration(
                    mode: .rates, url: "http://127.0.0.1:\(port)/webhooks/ota/acme", secret: CitusTests.rateSecret),
            ]
        }
    }

    /// A booking version as a WebHotelier PUSH, its OTA time in changes[].date.
    static func pushedBooking(id: Int, property: String, otaTime: String) -> [UInt8] {
        Array(
            #"{"id":\#(id),"type":"new","data":{"id":\#(id),"property":"\#(property)","status":1,"roomStay":{"from":"2026-02-01","to":"2026-02-04"},"bookInfo":{"book_date":"2026-01-01T08:00:00Z"},"changes":[{"date":"\#(otaTime)"}],"pricing":{"price":330,"currency":"EUR"}}}"#
                .utf8)
    }

    static func pushHeaders() -> HTTPHeaders {
        [
            "Content-Type": "application/json",
            "Authorization": "Basic " + Data("wh-push:\(pushPassword)".utf8).base64EncodedString(),
        ]
    }

    /// serve on `port` with continuous promotion every 50 ms, the sandbox's PUSH and rate
    /// endpoints configured; returns once it answers /healthz.
    static func startServe(_ w: Warehouse, port: Int) async throws -> ChildProcess {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("citus-serve-\(UUID()).toml")
        try """
        [sources.webhotelier]
        kind = "webhotelier"
        base_url = "\(w.harness.baseURL)"
        credentials_env_prefix = "WH_"

        [serve]
        port = \(port)
        basic_username = "wh-push"
        basic_password_env = "PUSH_PASSWORD"
        promote = true
        promote_interval_ms = 50

        [serve.signing.acme]
        scheme = "hmac"
        secrets_env = ["ACME_SECRET"]
        """.write(to: config, atomically: true, encoding: .utf8)
        var environment = w.environment
        environment["PUSH_PASSWORD"] = pushPassword
        environment["ACME_SECRET"] = rateSecret
        // The marker's property: serve takes pushes for the properties it has credentials for.
        environment["WH_" + markerProperty] = "wh:unused"
        let child = try ChildProcess(
            ["serve", "--config", config.path, "--database-url", w.url], environment: environment)
        let session = HTTPSession()
        // Readiness: serve answers /healthz once it listens.
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

    /// What one warehouse made of the pushes: staging and facts as continuous promotion left
    /// them, and after a `transform --full-refresh`.
    struct Pushed {
        var incremental: [String: [String]]
        var refreshed: [String: [String]]
    }

    /// Feeds `w` (whose sandbox delivers to `port`) through serve: the sandbox's deliveries
    /// for `pushedMinutes` minutes of the world, then a burst of new bookings from eight
    /// clients at once, then a marker booking for a property nothing else pushes; waits for
    /// the marker's promotion to be announced.
    static func pushedDay(_ w: Warehouse, port: Int) async throws -> Pushed {
        let serve = try await startServe(w, port: port)
        let listener = try await PostgresConnection.connect(w.url)
        try await listener.listen(FactsAnnouncement.channel)
        do {
            // A minute at a time: two versions of one booking are never in flight together, so
            // they land in the world's order on both warehouses (a "new" landing after a later
            // version of its booking would be kept aside as a collision).
            for _ in 0..<pushedMinutes {
                w.server.advance(minutes: 1)
                await w.server.waitForWebhookDeliveries()
            }
            let deliveries = w.server.webhookDeliveries()
            #expect(deliveries.contains { $0.mode == .push } && deliveries.contains { $0.mode == .rates })
            let failed = deliveries.filter { $0.outcome != .delivered }
            #expect(
                failed.isEmpty,
                "\(failed.count) of \(deliveries.count) deliveries failed: \(failed.prefix(3).map { "\($0.type) \($0.attempts)" })"
            )
            // Many requests at once: the group commit lands them a statement per kind.
            let accounts = w.server.accounts().map(\.code)
            let answers = await withTaskGroup(of: Int.self, returning: [Int].self) { group in
                for client in 0..<8 {
                    group.addTask {
                        let session = HTTPSession()
                        var failures = 0
                        for n in 0..<5 {
                            let id = 900_000 + client * 10 + n
                            let body = pushedBooking(
                                id: id, property: accounts[id % accounts.count],
                                otaTime: "2026-01-01T0\(client):1\(n):00Z")
                            let status = try? await session.send(
                                HTTPClientRequest(
                                    method: "POST", url: "http://127.0.0.1:\(port)/webhooks/webhotelier",
                                    headers: pushHeaders(), body: body)
                            ).status
                            if status != 200 { failures += 1 }
                        }
                        return failures
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0 == 0 }, "burst pushes not answered 200: \(answers)")
            // Answered last: once its promotion is announced, everything answered before it is in facts.
            let marker = markerProperty
            let answer = try await HTTPSession().send(
                HTTPClientRequest(
                    method: "POST", url: "http://127.0.0.1:\(port)/webhooks/webhotelier", headers: pushHeaders(),
                    body: pushedBooking(id: 999_001, property: marker, otaTime: "2026-01-01T12:00:00Z")))
            #expect(answer.status == 200)
            let deadline = ContinuousClock.now + .seconds(120)
            var announced: FactsAnnouncement?
            // A safety net for a broken promoter, not a synchronisation: the wait is on the notification.
            while announced == nil, ContinuousClock.now < deadline, serve.isRunning {
                for notification in try await listener.notifications(waitingUpTo: .seconds(1)) {
                    let a = try FactsAnnouncement.decode(notification.payload)
                    if a.concerns(stream: "reservations", property: marker) { announced = a }
                }
            }
            #expect(announced?.horizon != nil, "the marker's promotion was not announced")
        } catch {
            serve.kill()
            _ = try? await serve.wait()
            await listener.close()
            throw error
        }
        await listener.close()
        kill(serve.pid, SIGTERM)
        let stopped = try await serve.wait()
        #expect(stopped.status == 0, "serve: \(stopped.stderr.suffix(2000))")
        #expect(!stopped.stderr.contains("micro-batch failed"), "\(stopped.stderr.suffix(2000))")
        let incremental = try await fingerprint(w, exports: false)
        let refresh = try await w.run(["transform", "--full-refresh"])
        #expect(refresh.status == 0, "transform --full-refresh: \(refresh.stdout) \(refresh.stderr)")
        return Pushed(incremental: incremental, refreshed: try await fingerprint(w, exports: false))
    }

    @Test(
        "serve with continuous promotion on three Citus nodes: the sandbox's pushes and a burst go through the group commit, the last push's promotion is announced, and the facts equal one server's and a full refresh"
    )
    func pushToFact() async throws {
        let single = try await TestDatabase.create()
        let expected: Pushed
        do {
            let port = try LoopbackPort.freeForServer()
            let one = try await Self.warehouse(url: single.url, distributed: false, world: Self.pushWorld(port: port))
            do {
                expected = try await Self.pushedDay(one, port: port)
            } catch {
                await one.server.stop()
                throw error
            }
            await one.server.stop()
        } catch {
            try? await single.drop()
            throw error
        }
        try await single.drop()
        #expect(
            expected.incremental == expected.refreshed, "one server: continuous promotion differs from a full refresh")
        #expect((expected.incremental["facts.reservations"]?.count ?? 0) > 40)
        #expect((expected.incremental["facts.rates"]?.count ?? 0) > 0)

        try await CitusCluster.with { cluster in
            let port = try LoopbackPort.freeForServer()
            let citus = try await Self.warehouse(url: cluster.url, distributed: true, world: Self.pushWorld(port: port))
            let actual: Pushed
            do {
                actual = try await Self.pushedDay(citus, port: port)
            } catch {
                await citus.server.stop()
                throw error
            }
            await citus.server.stop()
            expectSameStaging(actual.incremental, expected.incremental)
            expectSameStaging(actual.refreshed, actual.incremental)
            try await Self.expectSetAsideRowsRetried(citus)
        }
    }

    /// Rows continuous promotion set aside are promoted by its next step once they are due (a
    /// transform succeeded since): on the cluster the promoter's setting that asks for them is
    /// read on the coordinator, not on the workers, which do not see it.
    static func expectSetAsideRowsRetried(_ w: Warehouse) async throws {
        let c = try await PostgresConnection.connect(w.url)
        _ = try await c.query("select staging.ensure_load_partitions(current_date)")
        // A rate observation whose landing was set aside after three failures, and the marks past
        // it (as setting aside leaves them), then due again (as a successful transform leaves it).
        try await c.execute(
            """
            insert into staging.rate_observations (source, stream, property_code, rate_id, room_code, stay_date, adults,
                children, channel, price, currency, closeout, min_stay, observed_at, load_date, batch_id, run_id, raw)
            values ('acme', 'rates', 'HTL001', 'set-aside', 'DBL', '2026-06-01', 2, 0, '', 123.45, 'EUR', false, 1,
                    '2026-01-02T00:00:00Z', current_date, 'set-aside', 'set-aside', '{}')
            """)
        try await c.execute(
            """
            insert into ops.promotion_set_aside (stream, landed_xid, row_count, failures, error, retry_due)
            select 'rates', landed_xid, 1, 3, 'a test', true from staging.rate_observations where rate_id = 'set-aside'
            """)
        try await c.execute("update ops.transform_state set seen_snapshot = pg_current_snapshot()")
        await c.close()
        let promoter = try ContinuousPromoter(databaseURL: w.url, runID: "citus-set-aside")
        let outcome = await promoter.step()
        await promoter.close()
        guard case .promoted(let batch) = outcome else {
            Issue.record("the step did not promote the rows set aside: \(outcome)")
            return
        }
        #expect(batch.retriedSetAside)
        #expect(
            try await w.harness.int(
                "select count(*)::int from facts.rates where rate_id = 'set-aside' and price = 123.45")
                == 1, "the row set aside is not in facts")
        #expect(
            try await w.harness.int("select count(*)::int from ops.promotion_set_aside where promoted_at is null") == 0)
    }
}
