import Foundation
import HTTPClient
import OTASandbox
import Testing

/// Signed rate updates: HMAC and Standard Webhooks, refused and counted when wrong.
@Suite struct SignedRateTests {
    static func body(_ event: String, price: String = "118.90") -> [UInt8] {
        Array(
            #"{"event_id":"\#(event)","property_id":"HTL001","rate_plan_code":"20003","room_code":"DBL","base_rate":\#(price),"currency":"EUR","effective_date":"2026-02-21","event_timestamp":"2026-01-01T10:05:00Z"}"#
                .utf8)
    }

    @Test func hmacSignedUpdatesLandOnceAndTamperedOrWronglySignedOnesAreRefused() async throws {
        try await ReceiverHarness.with { h in
            let good = Self.body("evt_1")
            func post(_ body: [UInt8], signature: String?) async throws -> HTTPClientResponse {
                var headers: HTTPHeaders = ["Content-Type": "application/json"]
                if let signature { headers.add("X-OTA-Signature", signature) }
                return try await h.send("POST", "/webhooks/ota/acme", headers: headers, body: body)
            }
            let signature = TestSigning.hmacHex(good, secret: ReceiverHarness.hmacSecret)
            #expect(try await post(good, signature: signature).status == 200)
            #expect(try await post(good, signature: signature).bodyText.contains("duplicate"))
            let tampered = Self.body("evt_1", price: "18.90")
            #expect(try await post(tampered, signature: signature).status == 401)
            #expect(try await post(good, signature: TestSigning.hmacHex(good, secret: "wrong")).status == 401)
            #expect(try await post(good, signature: nil).status == 401)
            #expect(h.metric("rates", "bad_signature") == 2)
            #expect(h.metric("rates", "missing_signature") == 1)
            // What reconciliation's pipeline health reads: received, refused, redelivered.
            // (The periodic writer may be writing them at this moment: wait for the rows, not a time.)
            try await h.receiver.flushPipelineCounts()
            var counts: [String] = []
            for _ in 0..<500 {
                counts = try await h.strings(
                    """
                    select metric || '=' || sum(value) from ops.pipeline_counts where source = 'acme' and stream = 'rates'
                    group by metric order by metric
                    """)
                if counts.count == 3 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(counts == ["pushes_received=5", "pushes_refused=3", "redeliveries=1"])
            let rows = try await h.strings(
                """
                select concat_ws('|', property_code, rate_id, room_code, stay_date, adults, price, currency, origin, record_key,
                                 observed_at at time zone 'UTC')
                from staging.rate_observations
                """)
            #expect(rows == ["HTL001|20003|DBL|2026-02-21|2|118.90|EUR|push|evt_1|2026-01-01 10:05:00"])
        }
    }

    @Test func standardWebhooksAcceptBothRotatedSecretsAndRefuseStaleOrFutureTimestamps() async throws {
        try await ReceiverHarness.with { h in
            let now = Int(Date().timeIntervalSince1970)
            func post(_ body: [UInt8], id: String, timestamp: Int, secret: String) async throws -> HTTPClientResponse {
                let headers: HTTPHeaders = [
                    "Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": String(timestamp),
                    "webhook-signature": TestSigning.standard(body, id: id, timestamp: timestamp, secret: secret),
                ]
                return try await h.send("POST", "/webhooks/ota/svix", headers: headers, body: body)
            }
            let old = ReceiverHarness.standardSecrets[0]
            let new = ReceiverHarness.standardSecrets[1]
            #expect(try await post(Self.body("a"), id: "msg_1", timestamp: now, secret: old).status == 200)
            #expect(
                try await post(Self.body("b", price: "120"), id: "msg_2", timestamp: now, secret: new).status == 200)
            // The same message again (a retry, or a replay inside the tolerance) is a no-op.
            let replay = try await post(Self.body("a"), id: "msg_1", timestamp: now, secret: old)
            #expect(replay.status == 200 && replay.bodyText.contains("duplicate"))
            // Outside the 5-minute tolerance, either way: refused, whatever the signature.
            // The answer says which way the clock is off.
            let past = try await post(Self.body("c"), id: "msg_3", timestamp: now - 600, secret: new)
            #expect(past.status == 401 && past.bodyText.contains("s in the past"), "\(past.bodyText)")
            let future = try await post(Self.body("d"), id: "msg_4", timestamp: now + 600, secret: new)
            #expect(future.status == 401 && future.bodyText.contains("s in the future"), "\(future.bodyText)")
            #expect(try await post(Self.body("e"), id: "msg_5", timestamp: now, secret: "whsec_d3Jvbmc=").status == 401)
            #expect(h.metric("rates", "stale_timestamp") == 2)
            #expect(h.metric("rates", "bad_signature") == 1)
            #expect(try await h.int("select count(*)::int from staging.rate_observations") == 2)
            #expect(try await h.int("select count(*)::int from ops.webhook_receipts") == 2)
        }
    }

    @Test func theSandboxsRateUpdatesLandAsPushObservations() async throws {
        try await ReceiverHarness.with({ c in
            c.seed = 83
            c.propertyCount = 1
            c.webhookRetry.initialBackoffMilliseconds = 5
        }) { h in
            try h.sandbox.registerWebhook(
                WebhookRegistration(
                    mode: .rates, url: h.baseURL + "/webhooks/ota/acme", signing: .hmac,
                    secret: ReceiverHarness.hmacSecret))
            h.sandbox.advance(minutes: 24 * 60)
            await h.sandbox.waitForWebhookDeliveries()
            let deliveries = h.sandbox.webhookDeliveries()
            #expect(!deliveries.isEmpty, "the world should have changed some prices")
            #expect(deliveries.allSatisfy { $0.outcome == .delivered })
            #expect(
                try await h.int("select count(*)::int from staging.rate_observations where origin = 'push'")
                    == deliveries.count)
        }
    }
}
