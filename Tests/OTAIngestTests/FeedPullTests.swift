import Foundation
import OTAIngest
import OTASandbox
import Testing

@Suite struct FeedPullTests {
    @Test func availabilityAndRatesMatchTheTruthCellForCell() async throws {
        try await PullHarness.with({ c in
            c.seed = 21
            c.propertyCount = 2
            c.faults.malformedRecordRate = 0.01
        }) { h in
            h.server.advance(minutes: 600)
            let outcome = try await h.pull(.feeds([.availability, .rates]))
            let today = CivilDate(h.server.now)
            let window = today...today.adding(days: 44)
            let malformed = h.server.malformedRecords()

            let badAvailability = Set(
                malformed.filter { $0.surface == .availability }.map { "\($0.property)|\($0.room!)|\($0.date!)" })
            let expectedAvailability = h.server.accounts().flatMap { h.server.availabilityGrid(property: $0.code) }
                .filter { window.contains(CivilDate($0.date)!) }
                .filter { !badAvailability.contains("\($0.property)|\($0.room)|\($0.date)") }
                .map {
                    "\($0.property)|\($0.room)|\($0.date)|\($0.allotment)|\($0.stopSell)|\($0.minStay)|\($0.maxStay)|\($0.closedToArrival)|\($0.closedToDeparture)"
                }
            let stagedAvailability = try await h.strings(
                """
                select concat_ws('|', property_code, room_code, stay_date, allotment, stop_sell, min_stay, max_stay,
                                 closed_to_arrival, closed_to_departure)
                from staging.availability_observations
                """)
            #expect(!expectedAvailability.isEmpty)
            #expect(stagedAvailability.sorted() == expectedAvailability.map(\.sqlBools).sorted())

            let badRates = Set(
                malformed.filter { $0.surface == .rates }.map { "\($0.property)|\($0.rateID!)|\($0.date!)" })
            let expectedRates = h.server.accounts().flatMap { h.server.rateGrid(property: $0.code) }
                .filter { window.contains(CivilDate($0.date)!) }
                .filter { !badRates.contains("\($0.property)|\($0.rateID)|\($0.date)") }
                .map {
                    "\($0.property)|\($0.rateID)|\($0.room)|\($0.date)|\($0.adults)|\($0.children)|\(money($0.priceCents))|\($0.currency)|\($0.closeout)|\($0.minStay)"
                }
            let stagedRates = try await h.strings(
                """
                select concat_ws('|', property_code, rate_id, room_code, stay_date, adults, children, price, currency,
                                 closeout, min_stay)
                from staging.rate_observations
                """)
            #expect(stagedRates.sorted() == expectedRates.map(\.sqlBools).sorted())

            // Each malformed record inside the window is a dead letter, and nothing else is.
            let expectedDead = malformed.filter {
                ($0.surface == .availability || $0.surface == .rates) && window.contains(CivilDate($0.date!)!)
            }.count
            #expect(outcome.counts["dead_letters"] == expectedDead)
            #expect(try await h.int("select count(*)::int from ops.dead_letters") == expectedDead)
            #expect(outcome.status == (expectedDead > 0 ? .finishedWithDeadLetters : .success))
        }
    }

    @Test func aResumedRunSkipsTheChunksItLanded() async throws {
        try await PullHarness.with({ c in
            c.seed = 22
            c.propertyCount = 1
        }) { h in
            let runner = h.runner(newRun: true)
            let first = try await runner.run(.feeds([.availability]))
            #expect(first.status == .success)
            // Mark the run failed, as if it had died, then run again: it resumes and lands nothing twice.
            let connection = try await h.db.connect()
            try await connection.execute("update ops.runs set status = 'failed'")
            await connection.close()
            let resumed = try await h.runner(newRun: false).run(.feeds([.availability]))
            #expect(resumed.run?.resumed == true)
            #expect(resumed.run?.id == first.run?.id)
            #expect(resumed.counts["landed"] == 0)
            #expect(resumed.counts["batches_skipped"] == 4)
            let duplicates = try await h.int(
                """
                select count(*)::int from (select 1 from staging.availability_observations
                group by property_code, room_code, stay_date having count(*) > 1) d
                """)
            #expect(duplicates == 0)
        }
    }
}

extension String {
    /// Swift's true/false as PostgreSQL's concat_ws prints booleans.
    var sqlBools: String {
        split(separator: "|", omittingEmptySubsequences: false).map {
            $0 == "true" ? "t" : $0 == "false" ? "f" : String($0)
        }
        .joined(separator: "|")
    }
}
