import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import PostgresClient
import Receiver
import TestSupport
import Testing

/// Nothing unauthenticated gets in: 401 before any property is looked up, with no
/// pull started and nothing written; 404 for a property the receiver has no
/// credentials for, with nothing stored.
@Suite struct ReceiverAccessTests {
    static let wrongBasic = "Basic " + Data("wh-push:wrong".utf8).base64EncodedString()

    /// Sandbox requests of every kind so far (the sandbox counts each request it serves).
    static func sandboxRequests(_ h: ReceiverHarness) -> Int {
        h.sandbox.stats().requests.values.reduce(0, +)
    }

    @Test("an unauthenticated PING and PUSH each get 401, start no pull and store nothing")
    func unauthenticatedRequestsStartAndStoreNothing() async throws {
        try await ReceiverHarness.with({ c in
            c.seed = 181
            c.propertyCount = 1
        }) { h in
            h.sandbox.advance(minutes: 6 * 60)
            let code = h.sandbox.accounts()[0].code
            let pending = h.sandbox.syncQueue()[code] ?? []
            #expect(!pending.isEmpty, "the world should have bookings waiting")
            let before = Self.sandboxRequests(h)
            for authorization in [nil, Self.wrongBasic, "Bearer x"] {
                var headers: HTTPHeaders = ["x-wh-property": code]
                if let authorization { headers.add("Authorization", authorization) }
                let ping = try await h.send("GET", "/webhooks/webhotelier", headers: headers)
                #expect(ping.status == 401, "\(ping.bodyText)")
                // An unknown code answers the same: a stranger learns nothing about which codes exist.
                headers.set("x-wh-property", "ZZZ999")
                #expect(try await h.send("GET", "/webhooks/webhotelier", headers: headers).status == 401)
                var pushHeaders: HTTPHeaders = ["Content-Type": "application/json"]
                if let authorization { pushHeaders.add("Authorization", authorization) }
                let push = try await h.send(
                    "POST", "/webhooks/webhotelier", headers: pushHeaders, body: pushJSON(id: 7001, property: code))
                #expect(push.status == 401, "\(push.bodyText)")
                let invalid = try await h.send(
                    "POST", "/webhooks/webhotelier", headers: pushHeaders, body: Array("{\"id\":".utf8))
                #expect(invalid.status == 401, "an unauthenticated body is not even read into dead letters")
            }
            #expect(h.metric("ping", "unauthorized") == 6)
            #expect(h.metric("push", "unauthorized") == 6)
            // One authenticated PING: exactly one pull follows. Had any refused PING started
            // one, there would be two (a PING during a pull causes one more after it).
            let ping = try await h.send(
                "GET", "/webhooks/webhotelier",
                headers: ["x-wh-property": code, "Authorization": ReceiverHarness.basicHeader])
            #expect(ping.status == 200)
            await h.receiver.waitForPingPulls()
            #expect(
                try await h.int("select count(*)::int from ops.runs where command like 'pull reservations --ping%'")
                    == 1)
            #expect(Self.sandboxRequests(h) > before, "the authenticated PING pulled")
            // Only the pull's bookings are in staging: no pushed one, and no body kept as a dead letter.
            #expect(try await h.int("select count(*)::int from staging.reservation_events where origin = 'push'") == 0)
            #expect(try await h.int("select count(*)::int from ops.dead_letters") == 0)
        }
    }

    @Test("an authenticated request for a property with no credentials gets 404 and stores nothing")
    func unconfiguredPropertyIs404() async throws {
        try await ReceiverHarness.with({ c in
            c.seed = 182
            c.propertyCount = 1
        }) { h in
            let before = Self.sandboxRequests(h)
            let auth: HTTPHeaders = ["Content-Type": "application/json", "Authorization": ReceiverHarness.basicHeader]
            let push = try await h.send(
                "POST", "/webhooks/webhotelier", headers: auth, body: pushJSON(id: 7002, property: "HTL999"))
            #expect(push.status == 404, "\(push.bodyText)")
            #expect(push.bodyText.contains("fix:"))
            // Invalid, but naming an unconfigured property: not kept as a dead letter either.
            let invalid = try await h.send(
                "POST", "/webhooks/webhotelier", headers: auth,
                body: pushJSON(id: 7003, type: "nonsense", property: "HTL999"))
            #expect(invalid.status == 404, "\(invalid.bodyText)")
            let ping = try await h.send(
                "GET", "/webhooks/webhotelier",
                headers: ["x-wh-property": "HTL999", "Authorization": ReceiverHarness.basicHeader])
            #expect(ping.status == 404)
            #expect(h.metric("push", "unknown_property") == 2)
            #expect(h.metric("ping", "unknown_property") == 1)
            #expect(try await h.int("select count(*)::int from staging.reservation_events") == 0)
            #expect(try await h.int("select count(*)::int from ops.dead_letters") == 0)
            await h.receiver.waitForPingPulls()
            #expect(try await h.int("select count(*)::int from ops.runs where command like 'pull%'") == 0)
            #expect(Self.sandboxRequests(h) == before)
            // The configured property is stored as before.
            let code = h.sandbox.accounts()[0].code
            let stored = try await h.send(
                "POST", "/webhooks/webhotelier", headers: auth, body: pushJSON(id: 7004, property: code))
            #expect(stored.status == 200, "\(stored.bodyText)")
        }
    }

    @Test("/metrics has a HELP and a TYPE line for every metric")
    func metricsHaveHelpAndType() async throws {
        try await ReceiverHarness.with { h in
            let auth: HTTPHeaders = ["Content-Type": "application/json", "Authorization": ReceiverHarness.basicHeader]
            let code = h.sandbox.accounts()[0].code
            _ = try await h.send("POST", "/webhooks/webhotelier", headers: auth, body: pushJSON(id: 1, property: code))
            _ = try await h.send("POST", "/webhooks/webhotelier", body: pushJSON(id: 2, property: code))
            let text = try await h.send("GET", "/metrics").bodyText
            let lines = text.split(separator: "\n").map(String.init)
            var helped: Set<String> = []
            var typed: Set<String> = []
            for (index, line) in lines.enumerated() {
                if line.hasPrefix("# HELP ") {
                    let name = String(line.dropFirst(7).split(separator: " ")[0])
                    #expect(line.count > 8 + name.count + 10, "an empty HELP for \(name)")
                    helped.insert(name)
                } else if line.hasPrefix("# TYPE ") {
                    let name = String(line.dropFirst(7).split(separator: " ")[0])
                    #expect(index > 0 && lines[index - 1].hasPrefix("# HELP \(name) "), "no HELP before \(line)")
                    typed.insert(name)
                } else if !line.hasPrefix("#") {
                    let sample = String(line.prefix { $0 != "{" && $0 != " " })
                    let family = ["_bucket", "_sum", "_count"].reduce(sample) { name, suffix in
                        typed.contains(name)
                            ? name : (name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name)
                    }
                    #expect(typed.contains(family), "\(sample) has no TYPE line")
                }
            }
            #expect(helped == typed)
            #expect(typed.isSuperset(of: ["ota_receiver_requests_total", "ota_receiver_commit_latency_seconds"]))
        }
    }
}
