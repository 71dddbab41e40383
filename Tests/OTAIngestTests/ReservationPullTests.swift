import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import Testing

/// What a client polling at the given times must hold, by the sandbox's truth:
/// for every booking changed since the previous poll, the version current at the poll.
func expectedBookings(_ server: SandboxServer, polls: [Date], start: Date) -> (
    landed: [Int: [OTASandbox.JSONValue]], dead: [String]
) {
    var landed: [Int: [OTASandbox.JSONValue]] = [:]
    var dead: [String] = []
    let versions = server.bookingVersions()
    let byBooking = Dictionary(grouping: versions, by: \.bookingID)
    var previous = start
    for poll in polls {
        for (id, history) in byBooking
        where history.contains(where: { $0.validFrom > previous && $0.validFrom <= poll }) {
            guard let current = history.first(where: { $0.validFrom <= poll && ($0.validTo.map { $0 > poll } ?? true) })
            else { continue }
            if current.malformation != nil {
                dead.append("\(id)#\(current.version)")
            } else {
                landed[id, default: []].append(current.body)
            }
        }
        previous = poll
    }
    return (landed, dead)
}

@Suite struct ReservationPullTests {
    @Test func pollsEndWithExactlyWhatTheTruthSaysAndARepeatLandsNothing() async throws {
        try await PullHarness.with({ c in
            c.seed = 7
            c.propertyCount = 3
            c.faults.malformedRecordRate = 0.04
        }) { h in
            let start = h.server.now
            var polls: [Date] = []
            var deadLetterTotal = 0
            for _ in 0..<4 {
                h.server.advance(minutes: 18 * 60)
                let outcome = try await h.pull(.reservations(since: nil))
                polls.append(h.server.now)
                deadLetterTotal += outcome.counts["dead_letters"] ?? 0
                #expect(outcome.status == (outcome.counts["dead_letters"] == 0 ? .success : .finishedWithDeadLetters))
            }
            let expected = expectedBookings(h.server, polls: polls, start: start)
            #expect(expected.landed.count > 20, "the world should have produced bookings")

            // Every expected version is in staging, and nothing else is.
            var expectedBodies: [String] = []
            for (id, bodies) in expected.landed {
                for body in Set(bodies.map(\.text)) { expectedBodies.append("\(id) " + (try await h.canonical(body))) }
            }
            let staged = try await h.strings(
                "select confirmation_id || ' ' || data::text from staging.reservation_events where not is_collision")
            #expect(staged.sorted() == expectedBodies.sorted())

            // Every malformed version seen at a poll is a dead letter, and nothing else is.
            let deadKeys = try await h.strings(
                "select record_key from ops.dead_letters where stream = 'reservations' order by 1")
            #expect(deadKeys == expected.dead.map { String($0.prefix { $0 != "#" }) }.sorted())
            #expect(deadLetterTotal == expected.dead.count)

            // Every event type happened and was landed in the right order of OTA time.
            let events = Set(h.server.bookingVersions().map(\.event))
            #expect(events.isSuperset(of: [.created, .modified, .cancelled]))

            // A second run without any change lands nothing and finds the queue empty.
            let again = try await h.pull(.reservations(since: nil))
            #expect(again.counts["landed"] == 0)
            #expect(again.counts["records"] == 0)
            let queue = try await HTTPSession().send(HTTPClientRequest(url: h.baseURL + "/_sandbox/truth/queue"))
            #expect(!queue.bodyText.contains("\"id\""), "every listed booking was marked synced: \(queue.bodyText)")
            #expect(h.server.minimumIntervalViolations().values.allSatisfy { $0 == 0 })
        }
    }

    @Test func recoveryReReadsWhatTheQueueNoLongerHolds() async throws {
        try await PullHarness.with({ c in
            c.seed = 11
            c.propertyCount = 2
            c.initialBookingsPerProperty = 8
        }) { h in
            let since = CivilDate(dayNumber: 0)
            let outcome = try await h.pull(.reservations(since: since))
            #expect(outcome.status == .success)
            // The initial bookings were synced before we started: only the search finds them.
            let expected = Set(h.server.bookingVersions().filter { $0.validTo == nil }.map { String($0.bookingID) })
            let staged = Set(
                try await h.strings("select confirmation_id from staging.reservation_events where origin = 'recovery'"))
            #expect(staged == expected)
            #expect(expected.count >= 10)
            let again = try await h.pull(.reservations(since: since))
            #expect(again.counts["landed"] == 0)
            #expect(again.counts["duplicates"] == expected.count)
        }
    }

    @Test func aResentNewWithOtherContentIsACollisionNotASecondBooking() async throws {
        try await PullHarness.with({ c in
            c.seed = 5
            c.propertyCount = 1
        }) { h in
            h.server.advance(minutes: 24 * 60)
            try await h.pull(.reservations(since: nil))
            // Simulate the OTA resending a "new" for a known number with different content,
            // as a backfill or a misbehaving channel would.
            let id = try await h.strings("select confirmation_id from staging.reservation_events limit 1")[0]
            let connection = try await h.db.connect()
            let outcome = try await connection.transaction { conn in
                try await ReservationLanding.land(
                    ReservationLanding.Event(
                        source: "webhotelier",
                        version: BookingVersion(
                            confirmationId: Int(id)!, propertyCode: "HTL001",
                            data: Array("{\"id\":\(id),\"status\":1,\"note\":\"different\"}".utf8), otaTime: nil),
                        eventType: "new", syncType: "NEW", origin: "push", raw: [], batchId: "test", runId: "test"),
                    on: conn)
            }
            await connection.close()
            #expect(outcome == .collision)
            let versions = try await h.int(
                "select count(*)::int from staging.reservation_events where confirmation_id = $1 and not is_collision",
                [id])
            let collisions = try await h.int(
                "select count(*)::int from staging.reservation_events where confirmation_id = $1 and is_collision", [id]
            )
            #expect(collisions == 1)
            #expect(versions >= 1)
        }
    }

    @Test func theMinimumIntervalHoldsAcrossRuns() async throws {
        try await PullHarness.with({ c in
            c.seed = 3
            c.propertyCount = 2
            c.minimumPendingIntervalMinutes = 5
        }) { h in
            h.server.advance(minutes: 60)
            let first = try await h.pull(.reservations(since: nil)) { $0.pendingListInterval = .seconds(300) }
            #expect(first.counts["skipped_properties"] == 0)
            // Same simulated minute: the second run must not call the pending list.
            let second = try await h.pull(.reservations(since: nil)) { $0.pendingListInterval = .seconds(300) }
            #expect(second.counts["skipped_properties"] == 2)
            #expect(h.server.minimumIntervalViolations().values.allSatisfy { $0 == 0 })
        }
    }
}
