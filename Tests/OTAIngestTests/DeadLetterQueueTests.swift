import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// The round trip: a record goes to dead letters, a fix is made, a replay lands it.
///
/// The fix has to be real, and a dead letter's bytes never change, so the test
/// cannot edit the record in the table. PostgreSQL's constraints are part of the
/// rules a record must pass: the test adds a CHECK that refuses some records (as an
/// over-strict rule would), lets the load dead-letter them through the COPY split,
/// then drops the CHECK (the fix) and replays. A record that breaks a validation
/// rule of the parser stays refused, with its attempts counted.
@Suite struct DeadLetterQueueTests {
    func dlq(_ arguments: [String], _ b: BackfillDatabase) async throws -> CommandLineRunner.Outcome {
        try await CommandLineRunner.run(["dlq"] + arguments + ["--database-url", b.db.url])
    }

    @Test func aRateRefusedByAConstraintLandsOnReplayOnceTheConstraintIsFixed() async throws {
        let lines = [
            #"{"property":"HTL001","rate_id":"7","room":"DBL","date":"2025-06-01","adults":2,"price":120,"currency":"EUR"}"#,
            #"{"property":"HTL001","rate_id":"7","room":"DBL","date":"2025-06-02","adults":2,"price":1500,"currency":"EUR"}"#,
            #"{"property":"HTL001","rate_id":"7","room":"DBL","date":"2025-06-03","adults":0,"price":130,"currency":"EUR","note":"guest maria@example.com"}"#,
            #"{"property":"HTL001","rate_id":"7","room":"DBL","date":"2025-06-04","adults":2,"price":140,"currency":"EUR"}"#,
        ]
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("rates.ndjson")
        try BackfillFixtures.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: file)
        try await BackfillDatabase.with { b in
            try await b.execute(
                "alter table staging.rate_observations add constraint test_price_cap check (price < 1000)")
            let load = try await b.load(["rates", "--source", "acme", "--file", file.path])
            #expect(load.status == 3, "\(load.stderr)")
            #expect(try await b.int("select count(*)::int from staging.rate_observations") == 2)
            let capped = try await b.int("select dead_letter_id::int from ops.dead_letters where reason like '%23514%'")
            let invalid = try await b.int(
                "select dead_letter_id::int from ops.dead_letters where reason like '%adults 0%'")

            let list = try await dlq(["list"], b)
            #expect(list.status == 0, "\(list.stderr)")
            #expect(list.stdout.contains("record key"))
            #expect(list.stdout.contains("HTL001/7/2025-06-02/2+0"))
            #expect(list.stdout.contains("adults 0 is below 1"))
            #expect(!list.stdout.contains("maria@example.com"), "raw payloads stay hidden")
            #expect(list.stdout.contains("2 of 2 unreplayed"))
            let raw = try await dlq(["list", "--show-raw", String(invalid)], b)
            #expect(raw.stdout == lines[2] + "\n")
            #expect(try await dlq(["list", "--stream", "availability"], b).stdout.contains("no dead letters"))

            // No fix yet: both stay refused and count another attempt.
            let early = try await dlq(["replay"], b)
            #expect(early.status == 3, "\(early.stderr)")
            #expect(early.stdout.contains("still refused 2"))
            #expect(try await b.int("select min(attempts)::int from ops.dead_letters") == 2)

            // The fix, then the replay lands the record through the same landing code.
            try await b.execute("alter table staging.rate_observations drop constraint test_price_cap")
            let replay = try await dlq(["replay"], b)
            #expect(replay.status == 3, "\(replay.stderr)")
            #expect(replay.stdout.contains("dead letters tried 2  landed 1"), "\(replay.stdout)")
            #expect(replay.stdout.contains("still refused 1"))
            #expect(try await b.int("select count(*)::int from staging.rate_observations") == 3)
            #expect(
                try await b.int(
                    "select count(*)::int from ops.dead_letters where replayed_at is not null and dead_letter_id = $1",
                    [capped]) == 1)
            #expect(try await b.int("select attempts from ops.dead_letters where dead_letter_id = $1", [invalid]) == 3)
            // It was observed when it first arrived, not when it was replayed.
            #expect(
                try await b.int(
                    """
                    select count(*)::int from staging.rate_observations r, ops.dead_letters d
                    where d.dead_letter_id = $1 and r.stay_date = '2025-06-02'
                      and r.observed_at = date_trunc('microseconds', d.first_seen)
                    """, [capped]) == 1)

            // Replayed letters are never replayed again.
            let again = try await dlq(["replay", "--allow-dead-letters"], b)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout.contains("dead letters tried 1  landed 0"))
            #expect(try await b.int("select count(*)::int from staging.rate_observations") == 3)
            #expect(try await dlq(["list"], b).stdout.contains("1 of 1 unreplayed"))
            #expect(try await dlq(["list", "--all"], b).stdout.contains("replayed 20"))
            #expect(try await b.int("select count(*)::int from ops.runs where command = 'dlq replay'") == 3)
        }
    }

    @Test func aReservationReplaysThroughReservationLanding() async throws {
        let booking =
            #"{"id":4242,"property":"HTL666","status":1,"roomStay":{"from":"2025-05-01","to":"2025-05-02"},"bookInfo":{"book_date":"2025-04-01T10:00:00Z"}}"#
        let dir = try BackfillFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bookings.json")
        try BackfillFixtures.write(Array("[{\"id\":4242,\"type\":\"new\",\"data\":\(booking)}]".utf8), to: file)
        try await BackfillDatabase.with { b in
            try await b.execute(
                "alter table staging.reservation_events add constraint test_no_htl666 check (property_code <> 'HTL666')"
            )
            #expect(try await b.load(["reservations", "--source", "webhotelier", "--file", file.path]).status == 3)
            #expect(try await b.strings("select reason from ops.dead_letters")[0].contains("23514"))
            // A pulled feed entry without its context (dead-lettered before it was kept): left alone.
            try await b.execute(
                """
                insert into ops.dead_letters (source, stream, property_code, record_key, raw, raw_hash, reason, run_id, batch_id)
                values ('webhotelier', 'availability', 'HTL001', 'HTL001/DBL', '{"date":"2025-01-01","allot":"x"}',
                        'h', 'allot must be an integer', 'r', 'r/availability/HTL001/2025-01-01..2025-01-31')
                """)
            try await b.execute("alter table staging.reservation_events drop constraint test_no_htl666")
            let replay = try await dlq(["replay", "--stream", "reservations"], b)
            #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
            #expect(replay.stdout.contains("landed 1"))
            let events = try await b.strings(
                "select confirmation_id || ' ' || event_type || ' ' || origin from staging.reservation_events")
            #expect(events == ["4242 new backfill"])
            let all = try await dlq(["replay", "--allow-dead-letters"], b)
            #expect(all.stdout.contains("not replayable 1"), "\(all.stdout)")
            #expect(try await b.int("select attempts from ops.dead_letters where stream = 'availability'") == 1)
        }
    }

    /// How a dead letter's record arrived is a column of its own: a pushed booking
    /// (the receiver gives its dead letters no batch id) replays as a push, not a pull.
    @Test func aReplayedDeadLetterKeepsTheOriginItArrivedBy() async throws {
        let body =
            #"{"id":4343,"type":"new","data":{"id":4343,"property":"HTL001","status":1,"roomStay":{"from":"2025-05-01","to":"2025-05-02"},"bookInfo":{"book_date":"2025-04-01T10:00:00Z"}}}"#
        try await BackfillDatabase.with { b in
            try await b.execute(
                """
                insert into ops.dead_letters (source, stream, property_code, record_key, raw, raw_hash, reason, run_id, origin)
                values ('webhotelier', 'reservations', 'HTL001', '4343', convert_to('\(body)', 'UTF8'), 'h',
                        'refused before a fix', 'r', 'push')
                """)
            let replay = try await dlq(["replay"], b)
            #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
            #expect(
                try await b.strings("select confirmation_id || ' ' || origin from staging.reservation_events")
                    == ["4343 push"])
        }
    }
}
