import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

/// Pulled WebHotelier feed entries are dead-lettered with what replay needs beside
/// their bytes (room, rate, the rate's room, currency, dates), and replay lands them.
@Suite struct FeedDeadLetterTests {
    @Test func aRefusedRateEntryKeepsItsContextAndLandsOnReplayOnceTheFixIsUndone() async throws {
        try await PullHarness.with({ c in
            c.seed = 71
            c.propertyCount = 2
        }) { h in
            h.server.advance(minutes: 60)
            let today = CivilDate(h.server.now)
            let window = today...today.adding(days: 44)
            let property = h.server.accounts()[0].code
            let truth = h.server.rateGrid(property: property).filter { window.contains(CivilDate($0.date)!) }
            let rate = String(truth[0].rateID)
            // An over-strict rule (as a bad release could ship) refuses one rate of one property.
            let ddl = try await h.db.connect()
            _ = try await ddl.execute(
                "alter table staging.rate_observations add constraint test_no_rate check (not (property_code = '\(property)' and rate_id = '\(rate)'))"
            )
            let pull = try await h.pull(.feeds([.rates]))
            #expect(pull.status == .finishedWithDeadLetters, "\(pull.summary)")
            let letters = try await h.strings(
                "select context::text from ops.dead_letters where stream = 'rates' order by dead_letter_id")
            #expect(!letters.isEmpty)
            let room = truth.first { String($0.rateID) == rate }!.room
            let currency = truth[0].currency
            for context in letters {
                #expect(context.contains(#""rate": "\#(rate)""#), "\(context)")
                #expect(context.contains(#""room": "\#(room)""#), "\(context)")
                #expect(context.contains(#""currency": "\#(currency)""#), "\(context)")
                #expect(context.contains(#""from": "#) && context.contains(#""to": "#), "\(context)")
            }
            #expect(
                try await h.int(
                    "select count(*)::int from staging.rate_observations where property_code = $1 and rate_id = $2",
                    [property, rate]) == 0)

            // Undo the rule, replay: the rate's cells land as the truth has them.
            _ = try await ddl.execute("alter table staging.rate_observations drop constraint test_no_rate")
            await ddl.close()
            let replay = try await CommandLineRunner.run(
                ["dlq", "replay", "--stream", "rates", "--database-url", h.db.url])
            #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
            #expect(replay.stdout.contains("landed \(letters.count)"), "\(replay.stdout)")
            let expected = truth.filter { String($0.rateID) == rate }.map {
                "\($0.rateID)|\($0.room)|\($0.date)|\($0.adults)|\($0.children)|\(money($0.priceCents))|\($0.currency)|\($0.closeout)|\($0.minStay)"
            }
            let staged = try await h.strings(
                """
                select concat_ws('|', rate_id, room_code, stay_date, adults, children, price, currency, closeout, min_stay)
                from staging.rate_observations where property_code = $1 and rate_id = $2
                """, [property, rate])
            #expect(staged.sorted() == expected.map(\.sqlBools).sorted())
            #expect(try await h.int("select count(*)::int from ops.dead_letters where replayed_at is null") == 0)
        }
    }

    @Test func identicalBadEntriesOfTwoRoomsStayTwoDeadLetters() async throws {
        try await TestDatabase.with { db in
            let conn = try await db.connect()
            _ = try await Migrator().migrate(conn)
            let entry = Array(#"{"date":"2026-02-30","allot":1}"#.utf8)
            func letter(_ room: String) -> DeadLetter {
                DeadLetter(
                    stream: "availability", propertyCode: "HTL001", recordKey: "HTL001/\(room)", raw: entry,
                    reason: "date must be a real date",
                    context: ["room": room, "from": "2026-02-01", "to": "2026-02-28"])
            }
            try await DeadLetterWriter.write(
                [letter("DBL"), letter("TWN")], source: "webhotelier", runId: "r1", batchId: nil, on: conn)
            // The same entry of the same room seen again is the same dead letter, attempted twice.
            try await DeadLetterWriter.write(
                [letter("DBL")], source: "webhotelier", runId: "r2", batchId: nil, on: conn)
            let rows = try await conn.query(
                "select context->>'room', attempts from ops.dead_letters order by 1")
            #expect(rows.count == 2)
            #expect(
                try rows.map { "\(try $0.decode(String.self, at: 0)) \(try $0.decode(Int.self, at: 1))" } == [
                    "DBL 2", "TWN 1",
                ])
            await conn.close()
        }
    }
}
