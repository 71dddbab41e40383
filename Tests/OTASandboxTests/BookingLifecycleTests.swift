import Foundation
import OTASandbox
import Testing

@Suite struct BookingLifecycleTests {
    @Test func advancingTimeProducesEveryEventTypeIncludingCancelThenRestore() throws {
        let server = try SandboxServer(configuration: SandboxConfiguration())
        server.advance(minutes: 3 * 1440)
        let versions = server.bookingVersions()
        let events = Set(versions.map(\.event))
        #expect(events == [.created, .modified, .cancelled, .restored])
        let byBooking = Dictionary(grouping: versions, by: \.bookingID)
        let cancelThenRestore = byBooking.values.contains { v in
            zip(v, v.dropFirst()).contains { $0.event == .cancelled && $1.event == .restored }
        }
        #expect(cancelThenRestore)
        // Versions tile time: each one ends where the next begins, the last is open.
        for list in byBooking.values {
            #expect(list.last!.validTo == nil)
            for (a, b) in zip(list, list.dropFirst()) { #expect(a.validTo == b.validFrom) }
        }
        // The status follows the events: cancelled 0, restored 1.
        #expect(versions.filter { $0.event == .cancelled }.allSatisfy { $0.status == 0 })
        #expect(versions.filter { $0.event == .restored }.allSatisfy { $0.status == 1 })
    }

    @Test func otaTimeIsTheLatestChangeElseTheBookingDate() throws {
        var c = SandboxConfiguration()
        c.faults.outOfOrderChangesRate = 0.5
        let server = try SandboxServer(configuration: c)
        server.advance(minutes: 2 * 1440)
        let formatter = ISO8601DateFormatter()
        var sawOutOfOrder = false
        for v in server.bookingVersions() {
            var dates: [Date] = []
            if case .array(let changes)? = v.body["changes"] {
                for change in changes {
                    if case .string(let text)? = change["date"], let date = formatter.date(from: text) {
                        dates.append(date)
                    }
                }
            }
            guard case .string(let bookDate)? = v.body["bookInfo"]?["book_date"] else {
                Issue.record("book_date missing")
                continue
            }
            #expect(v.otaTime == (dates.max() ?? formatter.date(from: bookDate)!))
            if dates != dates.sorted() { sawOutOfOrder = true }
            if v.event != .created { #expect(v.otaTime == v.validFrom) }
        }
        #expect(sawOutOfOrder)
        #expect((server.stats().faults["out_of_order_changes"] ?? 0) > 0)
    }

    @Test func aBookingLeavesTheQueueOnlyWhenSyncedAfterBeingListed() async throws {
        try await withSandbox { server, base in
            let account = server.accounts()[0]
            let auth = TestHTTP.basic(account)
            server.advance(minutes: 600)
            let mine = server.bookingVersions(property: account.code).filter {
                $0.validFrom > Date(timeIntervalSince1970: 1_767_225_600)
            }
            let id = try #require(mine.first?.bookingID)
            // Synced before it was ever listed: it stays.
            let early = try await TestHTTP.request("\(base)/reservation/sync/\(id)", headers: auth)
            #expect(early.status == 200)
            #expect(early.data?["synced"] as? Bool == false)
            let list = try await TestHTTP.request("\(base)/reservation/new", headers: auth)
            let ids = (list.data?["reservations"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? []
            #expect(ids.contains(id))
            #expect(list.data?["records"] as? Int == ids.count)
            let fetched = try await TestHTTP.request("\(base)/reservation/\(id)", headers: auth)
            #expect(fetched.data?["id"] as? Int == id)
            let synced = try await TestHTTP.request("\(base)/reservation/sync/\(id)", headers: auth)
            #expect(synced.data?["synced"] as? Bool == true)
            let after = try await TestHTTP.request("\(base)/reservation/new", headers: auth)
            let idsAfter = (after.data?["reservations"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? []
            #expect(!idsAfter.contains(id))
            #expect(server.minimumIntervalViolations().values.allSatisfy { $0 == 0 })
        }
    }

    @Test func aBookingChangedAfterListingReentersTheQueue() async throws {
        try await withSandbox { server, base in
            let account = server.accounts()[0]
            let auth = TestHTTP.basic(account)
            // List everything, then let time run until a listed booking changes again.
            server.advance(minutes: 600)
            let listed = try await TestHTTP.request("\(base)/reservation/new", headers: auth)
            let ids = Set((listed.data?["reservations"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? [])
            let listedAt = server.now
            var changed: Int?
            for _ in 0..<200 where changed == nil {
                server.advance(minutes: 60)
                changed =
                    server.bookingVersions(property: account.code).first {
                        ids.contains($0.bookingID) && $0.validFrom > listedAt
                    }?.bookingID
            }
            let id = try #require(changed)
            let sync = try await TestHTTP.request("\(base)/reservation/sync/\(id)", headers: auth)
            #expect(sync.data?["synced"] as? Bool == false)
            let again = try await TestHTTP.request("\(base)/reservation/new", headers: auth)
            let idsAgain = (again.data?["reservations"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? []
            #expect(idsAgain.contains(id))
        }
    }

    @Test func pendingListsTooCloseTogetherAreCountedAsViolations() async throws {
        try await withSandbox({ $0.minimumPendingIntervalMinutes = 5 }) { server, base in
            let account = server.accounts()[1]
            let auth = TestHTTP.basic(account)
            _ = try await TestHTTP.request("\(base)/reservation/new", headers: auth)
            server.advance(minutes: 5)
            _ = try await TestHTTP.request("\(base)/reservation/new", headers: auth)
            #expect(server.minimumIntervalViolations()[account.code] == 0)
            server.advance(minutes: 4)
            _ = try await TestHTTP.request("\(base)/reservation/new", headers: auth)
            #expect(server.minimumIntervalViolations()[account.code] == 1)
            #expect(server.minimumIntervalViolations()[server.accounts()[0].code] == 0)
        }
    }
}
