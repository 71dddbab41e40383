import Foundation
import OTASandbox
import Testing

@Suite struct SandboxAdminTests {
    @Test func accountsAdvanceAndTruthAreServedOverHTTP() async throws {
        try await withSandbox { server, base in
            let accounts = try #require(try await TestHTTP.request("\(base)/_sandbox/accounts").json)
            #expect(accounts["base_url"] as? String == base)
            let properties = try #require(accounts["properties"] as? [[String: Any]])
            #expect(properties.map { $0["code"] as? String } == server.accounts().map(\.code))
            let advanced = try await TestHTTP.request("\(base)/_sandbox/advance?minutes=90", method: "POST")
            #expect(advanced.json?["now"] as? String == "2026-01-01T01:30:00Z")
            let summary = try #require(try await TestHTTP.request("\(base)/_sandbox/truth").json)
            #expect(summary["now"] as? String == "2026-01-01T01:30:00Z")
            #expect(summary["first_stay_date"] as? String == "2026-01-01")
            let bookings = try #require(try await TestHTTP.request("\(base)/_sandbox/truth/bookings").json)
            #expect((bookings["versions"] as? [Any])?.count == server.bookingVersions().count)
            let inventory = try #require(
                try await TestHTTP.request("\(base)/_sandbox/truth/inventory?property=HTL001").json)
            #expect((inventory["records"] as? [Any])?.count == server.inventoryRecords(property: "HTL001").count)
            let rates = try #require(
                try await TestHTTP.request("\(base)/_sandbox/truth/rates?property=HTL002&from=2026-01-01&to=2026-01-01")
                    .json)
            #expect(
                (rates["cells"] as? [Any])?.count
                    == server.rateGrid(property: "HTL002").filter { $0.date == "2026-01-01" }.count)
        }
    }

    @Test func faultsAndWebhooksCanBeChangedAtRunTime() async throws {
        try await withSandbox { server, base in
            let body = Data(#"{"server_error_rate": 1, "retry_after_seconds": 9}"#.utf8)
            let set = try await TestHTTP.request("\(base)/_sandbox/faults", method: "POST", body: body)
            #expect(set.json?["server_error_rate"] as? Double == 1)
            #expect(server.faults.retryAfterSeconds == 9)
            let account = server.accounts()[0]
            let failed = try await TestHTTP.request("\(base)/reservation/new", headers: TestHTTP.basic(account))
            #expect(failed.status == 500 && failed.json?["error_code"] as? String == "INTERNAL_ERROR")
            let unknown = try await TestHTTP.request(
                "\(base)/_sandbox/faults", method: "POST", body: Data(#"{"no_such_fault": 1}"#.utf8))
            #expect(unknown.status == 400)

            let storm = Data(#"{"server_error_rate": 0, "rate_limit_storm_rate": 1}"#.utf8)
            _ = try await TestHTTP.request("\(base)/_sandbox/faults", method: "POST", body: storm)
            let limited = try await TestHTTP.request("\(base)/reservation/new", headers: TestHTTP.basic(account))
            #expect(limited.status == 429 && limited.headers["retry-after"] == "9")
            #expect(limited.json?["error_code"] as? String == "TOO_MANY_REQUESTS")

            let registration = Data(#"{"mode": "ping", "url": "http://127.0.0.1:9/x", "property": "HTL002"}"#.utf8)
            let registered = try await TestHTTP.request("\(base)/_sandbox/webhooks", method: "POST", body: registration)
            #expect(registered.json?["id"] as? Int == 1)
            let bad = Data(#"{"mode": "ping", "url": "http://127.0.0.1:9/x", "property": "HTL999"}"#.utf8)
            #expect(try await TestHTTP.request("\(base)/_sandbox/webhooks", method: "POST", body: bad).status == 400)
        }
    }

    @Test func malformedBookingsAndNightsAreServedBrokenAsTruthSays() async throws {
        try await withSandbox({ $0.faults.malformedRecordRate = 0.2 }) { server, base in
            server.advance(minutes: 600)
            let malformed = server.malformedRecords()
            let account = server.accounts()[0]
            let auth = TestHTTP.basic(account)
            let current = Dictionary(grouping: server.bookingVersions(property: account.code), by: \.bookingID)
                .values.map { $0.last! }
            var checked = 0
            for version in current {
                let reply = try await TestHTTP.request("\(base)/reservation/\(version.bookingID)", headers: auth)
                let listed = malformed.contains {
                    $0.surface == .bookings && $0.bookingID == version.bookingID && $0.version == version.version
                }
                #expect(listed == (version.malformation != nil))
                let text = String(decoding: reply.body, as: UTF8.self)
                switch version.malformation {
                case nil:
                    // A clean version is served exactly as the truth holds it.
                    let served = try #require(reply.data as? NSDictionary)
                    let truth = try JSONSerialization.jsonObject(with: Data(version.body.serialized)) as? NSDictionary
                    #expect(served == truth)
                case .nulInString?: #expect(text.contains("\\u0000"))
                case .invalidUTF8?: #expect(reply.body.contains(0xC3) && reply.json == nil)
                case .wrongType?: #expect(text.contains("\"status\":\"c"))
                case .missingKey?: #expect(!text.contains("\"from\":"))
                case .impossibleDate?: #expect(text.contains("-02-30"))
                case .negativeAllotment?: Issue.record("bookings have no allotment")
                }
                checked += 1
            }
            #expect(checked > 0 && current.contains { $0.malformation != nil })
            // Availability: every malformed night is its own entry, broken as listed.
            let nights = malformed.filter { $0.surface == .availability && $0.property == account.code }
            let reply = try await TestHTTP.request(
                "\(base)/manage/availability?from=2026-01-01&to=2027-02-04", headers: auth)
            let text = String(decoding: reply.body, as: UTF8.self)
            #expect(
                text.components(separatedBy: "-02-30").count - 1 == nights.filter { $0.kind == .impossibleDate }.count)
            #expect(
                text.components(separatedBy: "\"allot\":-").count - 1
                    == nights.filter { $0.kind == .negativeAllotment }.count)
            #expect(
                text.components(separatedBy: "\"allot\":\"").count - 1 == nights.filter { $0.kind == .wrongType }.count)
        }
    }

    @Test func wallClockModeMovesTheClockByItself() async throws {
        try await withSandbox({ $0.tickSeconds = 0.01 }) { server, _ in
            let start = server.now
            // Bounded wait for the ticker; the assertion is that time moved, not how fast.
            for _ in 0..<1000 where server.now == start {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(server.now > start)
        }
    }
}
