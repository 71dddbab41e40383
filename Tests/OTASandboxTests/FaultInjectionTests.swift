import Foundation
import OTASandbox
import Testing

/// Each fault fires at its configured rate. The generators are seeded, so these
/// bounds (about five standard deviations) are a check on the rate, not on luck.
@Suite struct FaultInjectionTests {
    private static let n = 400

    private func within(_ count: Int, rate: Double, n: Int = n) -> Bool {
        let mean = Double(n) * rate
        let sd = (Double(n) * rate * (1 - rate)).squareRoot()
        return Double(count) >= mean - 5 * sd && Double(count) <= mean + 5 * sd
    }

    private enum Outcome: Equatable {
        case status(Int, retryAfter: String?)
        case brokenJSON
        case transportError
    }

    private func hit(_ base: String, _ n: Int = n) async -> [Outcome] {
        var outcomes: [Outcome] = []
        for _ in 0..<n {
            do {
                let r = try await TestHTTP.request(
                    "\(base)/v2/inventory?limit=20", headers: ["Authorization": "Bearer sandbox-token"])
                if r.status == 200 && r.json == nil {
                    outcomes.append(.brokenJSON)
                } else {
                    outcomes.append(.status(r.status, retryAfter: r.headers["retry-after"]))
                }
            } catch {
                outcomes.append(.transportError)
            }
        }
        return outcomes
    }

    @Test func serverErrorsFireAtTheirRate() async throws {
        try await withSandbox({ $0.faults.serverErrorRate = 0.2 }) { server, base in
            let outcomes = await hit(base)
            let errors = outcomes.filter { $0 == .status(500, retryAfter: nil) }.count
            #expect(within(errors, rate: 0.2))
            #expect(server.stats().faults["server_error"] == errors)
            #expect(errors + outcomes.filter { $0 == .status(200, retryAfter: nil) }.count == Self.n)
        }
    }

    @Test func unavailableBurstsAndRateLimitStormsFireAtTheirRates() async throws {
        try await withSandbox({
            $0.faults.unavailableBurstRate = 0.05
            $0.faults.unavailableBurstLength = 3
            $0.faults.rateLimitStormRate = 0.05
            $0.faults.rateLimitStormLength = 2
            $0.faults.retryAfterSeconds = 7
        }) { server, base in
            let outcomes = await hit(base)
            let stats = server.stats().faults
            let bursts = stats["unavailable_burst"] ?? 0
            let storms = stats["rate_limit_storm"] ?? 0
            // Draws happen only on responses outside a burst or storm.
            let draws = Self.n - 2 * bursts - storms
            #expect(within(bursts, rate: 0.05, n: draws))
            #expect(outcomes.filter { $0 == .status(503, retryAfter: nil) }.count == stats["unavailable"])
            #expect(outcomes.filter { $0 == .status(429, retryAfter: "7") }.count == stats["rate_limited"])
            #expect((stats["unavailable"] ?? 0) >= 3 * bursts - 2)
            #expect(storms > 0 && bursts > 0)
        }
    }

    @Test func brokenBodiesFireAtTheirRates() async throws {
        try await withSandbox({
            $0.faults.truncatedBodyRate = 0.15
            $0.faults.connectionResetRate = 0.1
            $0.faults.slowBodyRate = 0.1
            $0.faults.slowBodyChunkDelayMilliseconds = 1
            $0.faults.latencyRate = 0.1
            $0.faults.latencyMilliseconds = 1
        }) { server, base in
            let outcomes = await hit(base)
            let stats = server.stats().faults
            let truncated = outcomes.filter { $0 == .brokenJSON }.count
            let resets = outcomes.filter { $0 == .transportError }.count
            #expect(truncated == stats["truncated_body"])
            #expect(resets == stats["connection_reset"])
            // Reset is drawn first, truncation only on what was not reset, and so on.
            #expect(within(resets, rate: 0.1))
            #expect(within(truncated, rate: 0.15, n: Self.n - resets))
            #expect(within(stats["slow_body"] ?? 0, rate: 0.1, n: Self.n - resets - truncated))
            #expect(within(stats["latency"] ?? 0, rate: 0.1))
        }
    }

    @Test func malformedFeedRecordsAreFixedBySeedAndListedInTruth() async throws {
        try await withSandbox({
            $0.propertyCount = 2
            $0.faults.malformedRecordRate = 0.01
        }) { server, base in
            func traversal() async throws -> [UInt8] {
                var bytes: [UInt8] = []
                var query = "limit=5000"
                while true {
                    let r = try await TestHTTP.request(
                        "\(base)/v2/inventory?\(query)", headers: ["Authorization": "Bearer sandbox-token"])
                    bytes += Array(r.body)
                    // The cursor is read by hand: a page with invalid UTF-8 is not JSON.
                    let text = String(decoding: r.body, as: UTF8.self)
                    guard let range = text.range(of: "\"next_cursor\":\""),
                        let end = text[range.upperBound...].firstIndex(of: "\"")
                    else { return bytes }
                    query = "limit=5000&cursor=\(text[range.upperBound..<end])"
                }
            }
            let first = try await traversal()
            let again = try await traversal()
            #expect(first == again, "malformed records are the same on every read")
            let listed = server.malformedRecords().filter { $0.surface == .inventory }
            let total = server.inventoryRecords().count
            #expect(within(listed.count, rate: 0.01, n: total))
            func occurrences(_ needle: [UInt8]) -> Int {
                var count = 0
                var i = 0
                while i + needle.count <= first.count {
                    if Array(first[i..<(i + needle.count)]) == needle {
                        count += 1
                        i += needle.count
                    } else {
                        i += 1
                    }
                }
                return count
            }
            func kind(_ k: MalformationKind) -> Int { listed.filter { $0.kind == k }.count }
            #expect(occurrences(Array("\\u0000".utf8)) == kind(.nulInString))
            #expect(occurrences([0xC3, 0x28]) == kind(.invalidUTF8))
            #expect(occurrences(Array("\"price\":\"".utf8)) == kind(.wrongType))
            #expect(occurrences(Array("-02-30".utf8)) == kind(.impossibleDate))
            #expect(occurrences(Array("\"available\":-".utf8)) == kind(.negativeAllotment))
            #expect(total - occurrences(Array("\"available\":".utf8)) == kind(.missingKey))
            #expect(Set(listed.map(\.kind)).count == MalformationKind.allCases.count)
        }
    }

    @Test func duplicatePageRecordsFireAtTheirRate() async throws {
        try await withSandbox({
            $0.propertyCount = 1
            $0.faults.duplicatePageRecordRate = 0.3
        }) { server, base in
            var query = "limit=50"
            var previousLast: String?
            var pages = 0
            var duplicates = 0
            while true {
                let r = try await TestHTTP.request(
                    "\(base)/v2/inventory?\(query)", headers: ["Authorization": "Bearer sandbox-token"])
                let json = try #require(r.json)
                let ids = (json["results"] as! [[String: Any]]).map { $0["id"] as! String }
                if let previousLast {
                    pages += 1
                    if ids.first == previousLast { duplicates += 1 }
                }
                previousLast = ids.last
                guard let next = json["next_cursor"] as? String else { break }
                query = "limit=50&cursor=\(next)"
            }
            #expect(within(duplicates, rate: 0.3, n: pages))
            #expect(server.stats().faults["duplicate_page_record"] == duplicates)
        }
    }

    @Test func resentNewBookingsAreListedInTruthAndQueue() async throws {
        try await withSandbox({ $0.faults.resentNewRate = 0.01 }) { server, base in
            server.advance(minutes: 600)
            let count = server.stats().faults["resent_new"] ?? 0
            #expect(within(count, rate: 0.01, n: 600 * 5) && count > 0)
            let truth = try await TestHTTP.request("\(base)/_sandbox/truth/bookings")
            let resent = try #require(truth.json?["resent_new"] as? [[String: Any]])
            #expect(resent.count == count)
        }
    }
}
