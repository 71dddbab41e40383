import Foundation
import OTASandbox
import Testing

/// The OpenTravel pull API: per-account queues held until acknowledged, the stale rule,
/// lost answers, the fallback timer, auth and the cadence log.
@Suite struct OpenTravelPullQueueTests {
    /// A busy world, so changes before the acknowledgement come within a few simulated hours.
    private static func busy(_ c: inout SandboxConfiguration) {
        c.propertyCount = 3
        c.activity.newBooking = 0.05
        c.activity.modification = 0.05
        c.activity.cancellation = 0.03
    }

    private func client(_ server: SandboxServer, _ base: String) -> OpenTravelTestClient {
        OpenTravelTestClient(base: base, account: server.openTravelAccounts()[0])
    }

    @Test func queuesAreHeldUntilAcknowledgedAndARepeatedAckIsANoOp() async throws {
        try await withSandbox({ Self.busy(&$0) }) { server, base in
            var ot = client(server, base)
            let empty = try await ot.read("new")
            #expect(empty.status == 200 && empty.items.isEmpty)
            #expect(String(decoding: empty.body, as: UTF8.self).contains("<HotelReservations/>"))
            server.advance(minutes: 120)
            let account = server.openTravelAccounts()[0]
            try await ot.useToken(basic: OpenTravelTestClient.basic(account))
            let first = try await ot.read("new")
            let queued = server.openTravelQueues().filter { $0.queue == "new" }
            #expect(!first.items.isEmpty)
            #expect(first.items.map(\.id) == queued.prefix(50).map(\.id))
            #expect(first.items.allSatisfy { $0.resStatus == nil })
            // Read again: nothing left the queue without an acknowledgement.
            #expect(try await ot.read("new").items.map(\.id) == first.items.map(\.id))

            let ack = try await ot.acknowledge("new", ids: first.items.map(\.id))
            #expect(ack.status == 200)
            #expect(ParsedXML(ack.body)?.all("Success").count == 1)
            #expect(server.openTravelQueues().filter { $0.queue == "new" }.map(\.id) == queued.dropFirst(50).map(\.id))
            let log = try #require(server.openTravelAcks().last)
            #expect(log.outcome == "applied" && log.lines.allSatisfy { $0.result == "removed" })
            #expect(log.lines.map(\.version) == queued.prefix(50).map(\.version))

            // A retry after a lost answer: the ids are no longer queued, so it is a no-op 200.
            let again = try await ot.acknowledge("new", ids: first.items.map(\.id))
            #expect(again.status == 200)
            #expect(server.openTravelAcks().last?.lines.allSatisfy { $0.result == "not_queued" } == true)

            // <Errors> instead of <Success/>: not processed, everything stays.
            let rest = try await ot.read("new")
            let refused = try await ot.acknowledge("new", ids: rest.items.map(\.id), success: false)
            #expect(refused.status == 200 && server.openTravelAcks().last?.outcome == "not_processed")
            #expect(server.openTravelQueues().filter { $0.queue == "new" }.map(\.id) == rest.items.map(\.id))
        }
    }

    @Test func aChangeBeforeTheAckMakesTheAckStaleAndNothingInItApplies() async throws {
        try await withSandbox({ Self.busy(&$0) }) { server, base in
            let ot = client(server, base)
            server.advance(minutes: 60)
            let served = try await ot.read("new")
            #expect(!served.items.isEmpty)
            // Move the clock until an item that was served changes (replaced in place).
            var changed: OpenTravelQueueItemTruth?
            for _ in 0..<600 where changed == nil {
                server.advance(minutes: 1)
                changed = server.openTravelQueues().first {
                    $0.queue == "new" && served.items.map(\.id).contains($0.id) && $0.servedRevision != $0.revision
                }
            }
            let stale = try #require(changed)
            let before = server.openTravelQueues()
            let ids = served.items.map(\.id).filter { id in before.contains { $0.id == id && $0.queue == "new" } }
            let answer = try await ot.acknowledge("new", ids: ids)
            #expect(answer.status == 400)
            #expect(ParsedXML(answer.body)?.all("Error").first?.attributes["Type"] == "3")
            #expect(server.openTravelQueues().map(\.revision) == before.map(\.revision))
            let log = try #require(server.openTravelAcks().last)
            #expect(log.outcome == "stale" && log.lines.contains { $0.id == stale.id && $0.result == "stale" })
            #expect(!log.lines.contains { $0.result == "removed" })

            // Fetch again, then the same acknowledgement applies.
            let fresh = try await ot.read("new")
            #expect(fresh.items.contains { $0.id == stale.id })
            #expect(try await ot.acknowledge("new", ids: fresh.items.map(\.id)).status == 200)
            #expect(!server.openTravelQueues().contains { $0.queue == "new" && fresh.items.map(\.id).contains($0.id) })
        }
    }

    @Test func aCancellationBeforeTheAckMovesTheItemToTheModifyQueue() async throws {
        try await withSandbox({ Self.busy(&$0) }) { server, base in
            let ot = client(server, base)
            var moved: OpenTravelQueueItemTruth?
            var servedNew: [String] = []
            for _ in 0..<40 where moved == nil {
                servedNew = try await ot.read("new").items.map(\.id)
                server.advance(minutes: 30)
                moved = server.openTravelQueues().first {
                    $0.queue == "modify" && $0.resStatus == "Cancel" && servedNew.contains($0.id)
                }
            }
            let item = try #require(moved)
            #expect(!server.openTravelQueues().contains { $0.queue == "new" && $0.id == item.id })
            // Acknowledging it as new is a no-op: it waits in the modify queue as a Cancel.
            #expect(try await ot.acknowledge("new", ids: [item.id]).status == 200)
            let modify = try await ot.read("modify")
            #expect(modify.items.contains { $0.id == item.id && $0.resStatus == "Cancel" })
            #expect(modify.items.allSatisfy { $0.resStatus == "Modify" || $0.resStatus == "Cancel" })
            #expect(try await ot.acknowledge("modify", ids: [item.id]).status == 200)
            #expect(!server.openTravelQueues().contains { $0.id == item.id && $0.queue == "modify" })
        }
    }

    @Test func anItemWaitingPastTheFallbackIsRecordedAndStaysQueued() async throws {
        try await withSandbox({
            Self.busy(&$0)
            $0.openTravel.fallbackMinutes = 45
        }) { server, base in
            server.advance(minutes: 20)
            let early = server.openTravelQueues()
            #expect(!early.isEmpty && server.openTravelFallbacks().isEmpty)
            server.advance(minutes: 40)
            let fallbacks = server.openTravelFallbacks()
            let due = server.openTravelQueues().filter { server.now.timeIntervalSince($0.queuedAt) >= 45 * 60 }
            #expect(!due.isEmpty)
            #expect(Set(fallbacks.map(\.id)) == Set(due.map(\.id)))
            for f in fallbacks {
                #expect(f.fallbackAt.timeIntervalSince(f.queuedAt) == 45 * 60)
            }
            #expect(due.allSatisfy { $0.fallbackAt != nil })
            let truth = try await TestHTTP.request("\(base)/_sandbox/truth/opentravel/fallbacks")
            #expect((truth.json?["fallbacks"] as? [Any])?.count == fallbacks.count)
        }
    }

    @Test func authTokensForbiddenHotelsAndServerErrors() async throws {
        try await withSandbox({
            Self.busy(&$0)
            $0.openTravel.accounts = [
                OpenTravelAccount(username: "bdc", password: "pw", hotels: ["HTL001", "HTL002"], basicAllowed: false)
            ]
        }) { server, base in
            server.advance(minutes: 120)
            let account = server.openTravelAccounts()[0]
            var ot = OpenTravelTestClient(base: base, account: account)
            #expect(try await ot.read("new").status == 401)  // Basic refused for this account
            let wrong = OpenTravelAccount(username: "bdc", password: "nope", hotels: [])
            let badToken = try await TestHTTP.request(
                "\(base)/hotels/ota/token", method: "POST",
                headers: ["Authorization": "Basic " + Data("bdc:nope".utf8).base64EncodedString()])
            #expect(badToken.status == 401 && wrong.hotels.isEmpty)
            let basic = "Basic " + Data("bdc:pw".utf8).base64EncodedString()
            let token = try await TestHTTP.request(
                "\(base)/hotels/ota/token", method: "POST", headers: ["Authorization": basic])
            #expect(token.json?["expires_in"] as? Int == 3600)
            try await ot.useToken(basic: basic)
            let read = try await ot.read("new")
            #expect(read.status == 200 && !read.items.isEmpty)
            // Only the account's hotels are served; another hotel is forbidden.
            let hotels = server.openTravelQueues().map(\.hotel)
            #expect(Set(hotels).isSubset(of: ["HTL001", "HTL002"]))
            #expect(try await ot.read("new", query: "hotel_ids=HTL003").status == 403)
            #expect(
                try await ot.read("new", query: "hotel_ids=HTL002").items.allSatisfy { id in
                    server.openTravelQueues().first { $0.id == id.id }?.hotel == "HTL002"
                })
            let foreign = try #require(server.openTravelReservations(hotel: "HTL003").first)
            #expect(try await ot.acknowledge("new", ids: [foreign.id]).status == 403)

            // A 500 on the acknowledgement: nothing applied.
            var faults = server.faults
            faults.serverErrorRate = 1
            server.setFaults(faults)
            let before = server.openTravelQueues().count
            #expect(try await ot.acknowledge("new", ids: read.items.map(\.id)).status == 500)
            #expect(server.openTravelQueues().count == before)
            faults.serverErrorRate = 0
            server.setFaults(faults)

            server.revokeOpenTravelTokens()
            #expect(try await ot.read("new").status == 401)
        }
    }

    @Test func aLostAnswerStillAppliedTheAcknowledgement() async throws {
        try await withSandbox({
            Self.busy(&$0)
            $0.faults.otLostAckAnswerRate = 1
        }) { server, base in
            server.advance(minutes: 120)
            let ot = client(server, base)
            let served = try await ot.read("new")
            #expect(!served.items.isEmpty)
            // The answer is lost: a dropped connection (an error) or a body cut in half.
            let answer = try? await ot.acknowledge("new", ids: served.items.map(\.id))
            #expect(
                answer.map { !String(decoding: $0.body, as: UTF8.self).hasSuffix("</OTA_HotelResNotifRS>") } ?? true)
            let log = try #require(server.openTravelAcks().last)
            #expect(log.outcome == "applied" && ["connection_reset", "truncated"].contains(log.answer))
            #expect(
                !server.openTravelQueues().contains { q in served.items.contains { $0.id == q.id && q.queue == "new" } }
            )
        }
    }

    @Test func pollsQuickerThanTheCadenceAreLogged() async throws {
        try await withSandbox({
            Self.busy(&$0)
            $0.openTravel.pollIntervalSeconds = 3600
            $0.openTravel.pollAfterAckSeconds = 0
        }) { server, base in
            server.advance(minutes: 120)
            let ot = client(server, base)
            let first = try await ot.read("new")
            _ = try await ot.read("new")  // too fast: no ack in between
            #expect(try await ot.acknowledge("new", ids: first.items.map(\.id)).status == 200)
            _ = try await ot.read("new")  // after an ack: allowed at once here
            _ = try await ot.read("modify")  // the other queue's first read
            let polls = server.openTravelPolls()
            let account = server.openTravelAccounts()[0].username
            #expect(polls.gets[account] == ["new": 3, "modify": 1])
            #expect(polls.tooFast.count == 1 && polls.tooFast[0].queue == "new")
            #expect(polls.tooFast[0].requiredMilliseconds == 3_600_000)
        }
    }

    @Test func pullBodiesAreDeterministicNamespacedAndBatched() async throws {
        func body(_ seed: UInt64) async throws -> (Data, Int) {
            try await withSandbox({
                Self.busy(&$0)
                $0.seed = seed
                $0.activity.newBooking = 0.3
            }) { server, base in
                server.advance(minutes: 120)
                let read = try await client(server, base).read("new")
                return (read.body, server.openTravelQueues().filter { $0.queue == "new" }.count)
            }
        }
        let (a, queued) = try await body(7)
        let (b, _) = try await body(7)
        #expect(a == b)
        #expect(queued > 50)
        let xml = try #require(ParsedXML(a))
        #expect(xml.elements[0].name == "OTA_HotelResNotifRQ")
        #expect(xml.elements.allSatisfy { $0.namespace == "http://www.opentravel.org/OTA/2003/05" })
        #expect(xml.all("HotelReservation").count == 50)
        #expect(xml.all("RoomStay").count > 50)  // some bookings have two rooms
    }
}
