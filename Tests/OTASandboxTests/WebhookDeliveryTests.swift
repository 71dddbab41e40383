import Crypto
import Foundation
import OTASandbox
import Testing

@Suite struct WebhookDeliveryTests {
    private static let start = Date(timeIntervalSince1970: 1_767_225_600)

    @Test func pushPingAndSignedRateUpdatesAreWellFormed() async throws {
        let receiver = WebhookReceiver()
        let port = try await receiver.start()
        let hook = "http://127.0.0.1:\(port)"
        let standardKey = Data("standard-key".utf8)
        try await withSandbox({
            $0.webhookRetry = WebhookRetryPolicy(maxAttempts: 3, initialBackoffMilliseconds: 5)
            $0.webhooks = [
                WebhookRegistration(mode: .ping, url: "\(hook)/ping"),
                WebhookRegistration(
                    property: "HTL001", mode: .push, url: "\(hook)/push-json", username: "wh", password: "pw"),
                WebhookRegistration(property: "HTL002", mode: .push, url: "\(hook)/push-xml", format: .xml),
                WebhookRegistration(property: "HTL001", mode: .rates, url: "\(hook)/rates-hmac", secret: "s3cret"),
                WebhookRegistration(
                    property: "HTL002", mode: .rates, url: "\(hook)/rates-standard", signing: .standard,
                    secret: "whsec_" + standardKey.base64EncodedString()),
            ]
        }) { server, base in
            server.advance(minutes: 240)
            await server.waitForWebhookDeliveries()
            let received = await receiver.requests
            let changes = server.bookingVersions().filter { $0.validFrom > Self.start }

            let pings = received.filter { $0.path == "/ping" }
            #expect(pings.count == changes.count)
            #expect(pings.allSatisfy { $0.method == "GET" && $0.body.isEmpty })
            #expect(pings.map { $0.headers["x-wh-property"] ?? "" }.sorted() == changes.map(\.property).sorted())

            let pushes = received.filter { $0.path == "/push-json" }
            #expect(pushes.count == changes.filter { $0.property == "HTL001" }.count)
            let auth = "Basic " + Data("wh:pw".utf8).base64EncodedString()
            for push in pushes {
                #expect(push.method == "POST" && push.headers["authorization"] == auth)
                let json = try #require((try? JSONSerialization.jsonObject(with: push.body)) as? [String: Any])
                #expect(Set(json.keys) == ["id", "type", "data"])
                #expect(["new", "update", "cancel", "restore"].contains(json["type"] as? String ?? ""))
                #expect((json["data"] as? [String: Any])?["id"] as? Int == json["id"] as? Int)
            }
            // Every PUSH answered 200 marked its booking synced: HTL001's queue is empty.
            let queue = try await TestHTTP.request("\(base)/_sandbox/truth/queue?property=HTL001")
            #expect((queue.json?["HTL001"] as? [Any])?.isEmpty == true)

            let xml = received.filter { $0.path == "/push-xml" }
            #expect(xml.count == changes.filter { $0.property == "HTL002" }.count)
            for push in xml {
                let text = String(decoding: push.body, as: UTF8.self)
                #expect(text.hasPrefix("<?xml") && text.contains("<notification><id>") && text.contains("<type>"))
                #expect(push.headers["authorization"] == nil)
            }

            let hmac = received.filter { $0.path == "/rates-hmac" }
            #expect(!hmac.isEmpty)
            for r in hmac {
                let mac = HMAC<SHA256>.authenticationCode(for: r.body, using: SymmetricKey(data: Data("s3cret".utf8)))
                #expect(r.headers["x-ota-signature"] == mac.map { String(format: "%02x", $0) }.joined())
                let json = try #require((try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any])
                #expect(json["property_id"] as? String == "HTL001")
                #expect(
                    json["base_rate"] is Double && json["effective_date"] is String && json["rate_plan_code"] is String)
            }

            let standard = received.filter { $0.path == "/rates-standard" }
            #expect(!standard.isEmpty)
            for r in standard {
                let id = try #require(r.headers["webhook-id"])
                let timestamp = try #require(r.headers["webhook-timestamp"])
                let signed = Data("\(id).\(timestamp).".utf8) + r.body
                let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: standardKey))
                #expect(r.headers["webhook-signature"] == "v1," + Data(mac).base64EncodedString())
            }
            #expect(server.webhookDeliveries().allSatisfy { $0.outcome == .delivered && $0.attempts.count == 1 })
        }
        await receiver.stop()
    }

    @Test func failedDeliveriesAreRetriedWithBackoffAndLogged() async throws {
        let receiver = WebhookReceiver()
        let port = try await receiver.start()
        try await withSandbox({
            $0.webhookRetry = WebhookRetryPolicy(maxAttempts: 3, initialBackoffMilliseconds: 5)
            $0.webhooks = [
                WebhookRegistration(property: "HTL003", mode: .push, url: "http://127.0.0.1:\(port)/flaky"),
                // Nothing listens on port 9 here: every attempt is refused.
                WebhookRegistration(property: "HTL004", mode: .ping, url: "http://127.0.0.1:9/dead"),
            ]
        }) { server, base in
            server.advance(minutes: 240)
            await server.waitForWebhookDeliveries()
            let deliveries = server.webhookDeliveries()
            let flaky = deliveries.filter { $0.property == "HTL003" }
            let dead = deliveries.filter { $0.property == "HTL004" }
            #expect(!flaky.isEmpty && !dead.isEmpty)
            #expect(flaky.allSatisfy { $0.outcome == .delivered })
            // Answered attempts only: on a loaded machine an attempt can also time out (no status)
            // and be retried, which is the behaviour under test too, but not a fixed count.
            let answered = flaky.flatMap(\.attempts).filter { $0.status != nil }
            #expect(answered.count == flaky.count + 2)
            #expect(flaky.flatMap(\.attempts).filter { $0.status == 500 }.count == 2)
            #expect(dead.allSatisfy { $0.outcome == .failed && $0.attempts.count == 3 })
            #expect(dead.flatMap(\.attempts).allSatisfy { $0.status == nil && $0.error != nil })
            let log = try await TestHTTP.request("\(base)/_sandbox/webhooks/deliveries")
            #expect((try? JSONSerialization.jsonObject(with: log.body) as? [Any])?.count == deliveries.count)
        }
        await receiver.stop()
    }

    @Test func duplicatePushAndDeadEndpointFaultsFireAtTheirRates() async throws {
        let receiver = WebhookReceiver()
        let port = try await receiver.start()
        try await withSandbox({
            $0.webhookRetry = WebhookRetryPolicy(maxAttempts: 4, initialBackoffMilliseconds: 1)
            $0.faults.duplicatePushRate = 0.25
            $0.faults.deadEndpointRate = 0.2
            $0.webhooks = [WebhookRegistration(mode: .push, url: "http://127.0.0.1:\(port)/push")]
        }) { server, _ in
            server.advance(minutes: 600)
            await server.waitForWebhookDeliveries()
            let deliveries = server.webhookDeliveries()
            let originals = deliveries.filter { !$0.duplicate }.count
            let duplicates = deliveries.filter(\.duplicate).count
            let attempts = deliveries.flatMap(\.attempts)
            let dead = attempts.filter(\.deadEndpoint).count
            func within(_ k: Int, _ p: Double, _ n: Int) -> Bool {
                let sd = (Double(n) * p * (1 - p)).squareRoot()
                return abs(Double(k) - Double(n) * p) <= 5 * sd
            }
            #expect(within(duplicates, 0.25, originals))
            #expect(within(dead, 0.2, attempts.count))
            #expect(server.stats().faults["duplicate_push"] == duplicates)
            #expect(server.stats().faults["dead_endpoint"] == dead)
            // A dead-endpoint attempt is retried; the receiver saw every delivery that succeeded.
            #expect(await receiver.requests.count == attempts.filter { !$0.deadEndpoint }.count)
        }
        await receiver.stop()
    }
}
