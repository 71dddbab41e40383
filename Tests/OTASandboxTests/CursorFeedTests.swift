import Foundation
import OTASandbox
import Testing

@Suite struct CursorFeedTests {
    private struct Record: Equatable {
        var id: String
        var cents: Int
        var available: Int
        var updatedAt: String
    }

    private func page(_ base: String, _ query: String) async throws -> (records: [Record], next: String?, status: Int) {
        let reply = try await TestHTTP.request(
            "\(base)/v2/inventory?\(query)", headers: ["Authorization": "Bearer sandbox-token"])
        guard reply.status == 200, let json = reply.json else { return ([], nil, reply.status) }
        let results = json["results"] as! [[String: Any]]
        let records = results.map {
            Record(
                id: $0["id"] as! String, cents: Int(((($0["price"] as! Double) * 100)).rounded()),
                available: $0["available"] as! Int, updatedAt: $0["updated_at"] as! String)
        }
        return (records, json["next_cursor"] as? String, reply.status)
    }

    private func expected(_ server: SandboxServer) -> [String: Record] {
        let formatter = ISO8601DateFormatter()
        return Dictionary(
            uniqueKeysWithValues: server.inventoryRecords().map {
                (
                    $0.id,
                    Record(
                        id: $0.id, cents: $0.priceCents, available: $0.available,
                        updatedAt: formatter.string(from: $0.updatedAt))
                )
            })
    }

    /// Walks one traversal to its end, advancing the world between pages.
    private func traverse(_ server: SandboxServer, _ base: String, first: String) async throws -> [Record] {
        var all: [Record] = []
        var query = first
        while true {
            let p = try await page(base, query)
            #expect(p.status == 200)
            all += p.records
            guard let next = p.next else { return all }
            server.advance(minutes: 20)
            query = "limit=997&cursor=\(next)"
        }
    }

    @Test func paginationUnderConcurrentChangeSkipsAndRepeatsNothing() async throws {
        try await withSandbox({
            $0.propertyCount = 2
            $0.activity.priceDrift = 0
            $0.activity.priceChange = 0.3
            $0.activity.newBooking = 0.1
        }) { server, base in
            let before = expected(server)
            let first = try await traverse(server, base, first: "limit=997")
            #expect(Set(first.map(\.id)).count == first.count, "a record was repeated")
            #expect(first.count == before.count, "a record was skipped")
            #expect(Dictionary(uniqueKeysWithValues: first.map { ($0.id, $0) }) == before)
            // Ordered by (updated_at, id).
            #expect(zip(first, first.dropFirst()).allSatisfy { ($0.updatedAt, $0.id) < ($1.updatedAt, $1.id) })
            // The world moved on during the traversal; an incremental one from the
            // watermark (inclusive) brings the client exactly to the truth.
            let watermark = first.map(\.updatedAt).max()!
            var state = Dictionary(uniqueKeysWithValues: first.map { ($0.id, $0) })
            let atStart = expected(server)
            #expect(atStart != state)
            let second = try await traverse(server, base, first: "limit=997&updated_after=\(watermark)")
            #expect(Set(second.map(\.id)).count == second.count)
            #expect(second.allSatisfy { $0.updatedAt >= watermark })
            #expect(second.contains { $0.updatedAt == watermark }, "the bound is inclusive")
            for r in second { state[r.id] = r }
            #expect(state == atStart)
        }
    }

    @Test func theFeedAsksForItsTokenAndQuota() async throws {
        try await withSandbox({ $0.feedQuota = FeedQuota(capacity: 3, refillPerSecond: 0.001) }) { server, base in
            let noToken = try await TestHTTP.request("\(base)/v2/inventory")
            #expect(noToken.status == 401)
            for _ in 0..<3 { #expect(try await page(base, "limit=1").status == 200) }
            let limited = try await TestHTTP.request(
                "\(base)/v2/inventory?limit=1", headers: ["Authorization": "Bearer sandbox-token"])
            #expect(limited.status == 429)
            #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1)
            #expect(server.stats().faults["quota_exceeded"] == 1)
        }
    }

    @Test func badParametersAreRejected() async throws {
        try await withSandbox { _, base in
            let tooMany = try await page(base, "limit=5001")
            let foreignCursor = try await page(base, "cursor=bm9wZQ")
            let notATime = try await page(base, "updated_after=yesterday")
            #expect(tooMany.status == 400)
            #expect(foreignCursor.status == 400)
            #expect(notATime.status == 400)
        }
    }
}
