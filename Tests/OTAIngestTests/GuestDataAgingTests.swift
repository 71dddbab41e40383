import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// Guest personal data leaves the warehouse: by age in the nightly, and on request by
/// booking or by email, always through staging.erase_guest and never touching facts.
@Suite("Guest data aging and erasure")
struct GuestDataAgingTests {
    typealias W = WarehouseFixture

    /// The day `days` days before today (UTC), as YYYY-MM-DD.
    static func daysAgo(_ days: Int) -> String {
        PostgresDate(daysSinceEpoch: Int(Date().timeIntervalSince1970 / 86400) - days).description
    }

    /// Stages one version of a booking departing `departsDaysAgo` days ago (two nights, loaded a month before).
    static func stage(
        _ w: W, id: String, email: String, lastName: String, departsDaysAgo: Int,
        changedAt: String = "2025-03-01T08:00:00Z"
    ) async throws {
        let checkIn = daysAgo(departsDaysAgo + 2)
        let loaded = daysAgo(departsDaysAgo + 30) + " 08:00Z"
        try await w.stageBooking(
            id: id, eventType: "new",
            body: W.booking(
                id: id, status: 1, checkIn: checkIn, nights: 2, nightly: 100, email: email, lastName: lastName,
                changedAt: changedAt),
            otaTime: loaded, loadedAt: loaded)
    }

    static func deadLetter(
        _ w: W, stream: String = "reservations", key: String?, raw: String, lastSeenDaysAgo: Int = 0
    ) async throws {
        try await w.connection.execute(
            """
            insert into ops.dead_letters (source, stream, property_code, record_key, raw, raw_hash, reason, run_id,
                first_seen, last_seen)
            values ('webhotelier', $1, 'HTL003', $2, convert_to($3, 'UTF8'), md5($3), 'bad date', 'test-run',
                    now() - make_interval(days => $4::int), now() - make_interval(days => $4::int))
            """, [stream, key, raw, lastSeenDaysAgo])
    }

    /// Staged versions and dead letters whose bytes still hold `needle`.
    static func holders(_ w: W, _ needle: String) async throws -> [String] {
        try await w.strings(
            """
            select 'staging ' || confirmation_id from staging.reservation_events
            where data::text ilike '%' || $1 || '%' or encode(raw, 'escape') ilike '%' || $1 || '%'
            union all
            select 'dead letter ' || coalesce(record_key, '-') from ops.dead_letters
            where encode(raw, 'escape') ilike '%' || $1 || '%'
            order by 1
            """, [needle])
    }

    @Test("the nightly erases guests whose stay ended longer ago than [retention] guest_data_days, and only those")
    func nightlyAgesOutOldGuests() async throws {
        #expect(RetentionConfig().guestDataDays == 400)
        try await W.with { w in
            try await Self.stage(
                w, id: "9101", email: "old.guest@example.org", lastName: "Oldfield", departsDaysAgo: 500)
            try await Self.stage(
                w, id: "9102", email: "young.guest@example.org", lastName: "Youngs", departsDaysAgo: 100)
            // Older than the configured 200 days, younger than the default 400: the key is read.
            try await Self.stage(
                w, id: "9103", email: "mid.guest@example.org", lastName: "Middleton", departsDaysAgo: 300)
            // A stay moved later: the latest departure counts, so the guest stays.
            try await Self.stage(
                w, id: "9104", email: "moved.guest@example.org", lastName: "Mover", departsDaysAgo: 500)
            try await Self.stage(
                w, id: "9104", email: "moved.guest@example.org", lastName: "Mover", departsDaysAgo: 10,
                changedAt: "2025-03-02T08:00:00Z")
            try await Self.deadLetter(
                w, key: nil, raw: #"{"id": 9101, "clientInfo": {"email": "old.guest@example.org"}, "roomStay": 1}"#)
            try await Self.deadLetter(
                w, key: "9102", raw: #"{"id": 9102, "clientInfo": {"email": "young.guest@example.org"}}"#)
            // Refused before any version landed: it ages by when it was last received.
            try await Self.deadLetter(
                w, key: "record 7", raw: #"{"clientInfo": {"lastName": "Lettergast"}, "roomStay": {"#,
                lastSeenDaysAgo: 250)
            try await Self.deadLetter(
                w, key: "record 8", raw: #"{"clientInfo": {"lastName": "Freshletter"}, "roomStay": {"#,
                lastSeenDaysAgo: 20)
            try await Self.deadLetter(
                w, stream: "rates", key: "20019/2024-01-01", raw: #"{"rate": "Ratesletter"}"#, lastSeenDaysAgo: 900)
            try await w.transform()
            let facts = try await w.factsFingerprint()
            #expect(facts.count > 0)

            let config = FileManager.default.temporaryDirectory.appendingPathComponent(
                "aging-\(UUID().uuidString).toml")
            try "[retention]\nguest_data_days = 200\n".write(to: config, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: config) }
            let night = try await CommandLineRunner.run([
                "nightly", "--config", config.path, "--database-url", w.database.url,
            ])
            #expect(night.status == 0, "\(night.stdout) \(night.stderr)")
            let line = night.stdout.split(separator: "\n").first { $0.contains("guest data aging") } ?? ""
            #expect(
                line.contains("succeeded") && line.contains("guest bookings erased 2")
                    && line.contains("guest versions erased 2") && line.contains("guest dead letters erased 2"),
                "\(night.stdout)")
            #expect(
                try await w.strings(
                    """
                    select concat_ws(' ', counts->>'guest_bookings_erased', counts->>'guest_versions_erased',
                                     counts->>'guest_dead_letters_erased')
                    from ops.runs where command = 'nightly: guest data aging'
                    """) == ["2 2 2"])

            for gone in ["old.guest@example.org", "Oldfield", "mid.guest@example.org", "Middleton", "Lettergast"] {
                #expect(try await Self.holders(w, gone).isEmpty, "\(gone) is still held")
            }
            #expect(try await Self.holders(w, "young.guest@example.org") == ["dead letter 9102", "staging 9102"])
            #expect(try await Self.holders(w, "Mover") == ["staging 9104", "staging 9104"])
            #expect(try await Self.holders(w, "Freshletter") == ["dead letter record 8"])
            #expect(try await Self.holders(w, "Ratesletter") == ["dead letter 20019/2024-01-01"])
            #expect(
                try await w.strings(
                    "select coalesce(confirmation_id, '-') || ' ' || cause || ' ' || events || ' ' || dead_letters from ops.erasures order by 1"
                ) == ["- aged 0 1", "9101 aged 1 1", "9103 aged 1 0"])

            #expect(try await w.factsFingerprint() == facts, "facts are untouched")
            try await w.transform(fullRefresh: true)
            #expect(try await w.factsFingerprint() == facts, "and a full refresh rebuilds them the same")
        }
    }

    @Test("erase-guest --email erases every booking of that guest, any case, and the dead letters holding the address")
    func eraseByEmail() async throws {
        try await W.with { w in
            try await Self.stage(
                w, id: "9201", email: "Zoe.Quist@Example.org", lastName: "Quistgaard", departsDaysAgo: 5)
            try await Self.stage(
                w, id: "9202", email: "zoe.quist@example.org", lastName: "Quistgaard", departsDaysAgo: 40)
            try await Self.stage(w, id: "9203", email: "other@example.org", lastName: "Otherby", departsDaysAgo: 5)
            // Unparseable, naming no booking: only the address finds it.
            try await Self.deadLetter(w, key: "record 3", raw: #"{"clientInfo": {"email": "ZOE.QUIST@example.org""#)
            try await w.transform()
            let facts = try await w.factsFingerprint()

            let first = try await CommandLineRunner.run([
                "erase-guest", "--email", "zoe.quist@EXAMPLE.org", "--database-url", w.database.url,
            ])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(
                first.stdout.contains("2 bookings (9201, 9202), 2 staged versions, 1 dead letters"), "\(first.stdout)")
            #expect(try await Self.holders(w, "zoe.quist").isEmpty)
            #expect(try await Self.holders(w, "Quistgaard").isEmpty)
            #expect(try await Self.holders(w, "other@example.org") == ["staging 9203"])
            #expect(try await w.factsFingerprint() == facts, "facts are untouched")

            // Asked again: the bookings are found by the guest's salted hash, and nothing is left to erase.
            let again = try await CommandLineRunner.run([
                "erase-guest", "--email", "zoe.quist@example.org", "--database-url", w.database.url,
            ])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(
                again.stdout.contains("2 bookings (9201, 9202), 0 staged versions, 0 dead letters"), "\(again.stdout)")
        }
    }

    @Test("erase-guest with an id or an address the warehouse never held exits 1 with one line, and logs nothing")
    func unknownGuestExitsOne() async throws {
        try await W.with { w in
            try await Self.stage(w, id: "9301", email: "known@example.org", lastName: "Knowles", departsDaysAgo: 5)
            for (flag, value) in [("--reservation", "424242"), ("--email", "nobody@example.org")] {
                let outcome = try await CommandLineRunner.run([
                    "erase-guest", flag, value, "--database-url", w.database.url,
                ])
                #expect(outcome.status == 1, "\(flag) \(value): \(outcome.stdout) \(outcome.stderr)")
                let lines = outcome.stderr.split(separator: "\n")
                #expect(lines.count == 1, "\(outcome.stderr)")
                #expect(lines.first?.contains(value) == true && lines.first?.contains("fix:") == true)
                #expect(outcome.stdout.isEmpty)
            }
            #expect(try await w.int("select count(*)::int from ops.erasures") == 0)
            #expect(try await Self.holders(w, "known@example.org") == ["staging 9301"])
        }
    }
}
