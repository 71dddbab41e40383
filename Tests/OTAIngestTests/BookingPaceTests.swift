import Foundation
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// feeds.booking_pace_as_of against a small world worked out by hand: HTL003
/// (Europe/London), bookings with a cancellation, a modification, a late
/// version and a stay a year earlier. Net revenue is 90% of gross in the fixture.
@Suite("Booking pace feed")
struct BookingPaceTests {
    static let asOf = "2025-06-10T12:00:00Z"

    /// stay date -> (room nights, gross, net, pickup 1d, pickup 7d, pickup 30d, last year's room nights)
    typealias Row = (rn: Int, gross: String, net: String, p1: Int, p7: Int, p30: Int, ly: Int)

    func pace(_ fixture: WarehouseFixture, at: String = asOf, includeLate: Bool = false) async throws -> [String: Row] {
        let rows = try await fixture.connection.query(
            """
            select stay_date::text, room_nights, revenue_gross::text, revenue_net::text, pickup_1d, pickup_7d,
                   pickup_30d, ly_room_nights
            from feeds.booking_pace_as_of($1::timestamptz, '2025-07-01', '2025-07-31', 'HTL003', $2)
            order by stay_date
            """, [at, includeLate])
        var out: [String: Row] = [:]
        for row in rows {
            out[try row.decode(String.self, at: 0)] = (
                try row.decode(Int.self, at: 1), try row.decode(String.self, at: 2), try row.decode(String.self, at: 3),
                try row.decode(Int.self, at: 4), try row.decode(Int.self, at: 5), try row.decode(Int.self, at: 6),
                try row.decode(Int.self, at: 7)
            )
        }
        return out
    }

    func stage(
        _ fixture: WarehouseFixture, id: String, type: String, status: Int = 1, checkIn: String, nights: Int,
        nightly: Double, at: String, loaded: String
    ) async throws {
        let body = WarehouseFixture.booking(
            id: id, status: status, checkIn: checkIn, nights: nights, nightly: nightly, changedAt: at)
        try await fixture.stageBooking(id: id, eventType: type, body: body, otaTime: at, loadedAt: loaded)
    }

    func expect(_ actual: [String: Row], _ expected: [String: Row], _ comment: Comment) {
        #expect(actual.keys.sorted() == expected.keys.sorted(), comment)
        for (date, e) in expected {
            guard let a = actual[date] else { continue }
            #expect(
                a.rn == e.rn && a.gross == e.gross && a.net == e.net && a.p1 == e.p1 && a.p7 == e.p7 && a.p30 == e.p30
                    && a.ly == e.ly, "\(comment) \(date): \(a) expected \(e)")
        }
    }

    @Test(
        "pace, pickup and last year equal the hand-computed figures; a late version changes an earlier as-of only with include_late"
    )
    func handComputed() async throws {
        try await WarehouseFixture.with { fixture in
            // A: 3 nights from 07-10 at 100, booked 06-01.
            try await stage(
                fixture, id: "5001", type: "new", checkIn: "2025-07-10", nights: 3, nightly: 100,
                at: "2025-06-01T10:00:00Z", loaded: "2025-06-01T10:05:00Z")
            // B: 2 nights from 07-11 at 120, booked 06-05, cancelled 06-08.
            try await stage(
                fixture, id: "5002", type: "new", checkIn: "2025-07-11", nights: 2, nightly: 120,
                at: "2025-06-05T10:00:00Z", loaded: "2025-06-05T10:05:00Z")
            try await stage(
                fixture, id: "5002", type: "cancel", status: 0, checkIn: "2025-07-11", nights: 2, nightly: 120,
                at: "2025-06-08T10:00:00Z", loaded: "2025-06-08T10:05:00Z")
            // C: 2 nights from 07-10 at 90, booked 06-02, moved on 06-09 to 2 nights from 07-11 at 95.
            try await stage(
                fixture, id: "5003", type: "new", checkIn: "2025-07-10", nights: 2, nightly: 90,
                at: "2025-06-02T10:00:00Z", loaded: "2025-06-02T10:05:00Z")
            try await stage(
                fixture, id: "5003", type: "update", checkIn: "2025-07-11", nights: 2, nightly: 95,
                at: "2025-06-09T10:00:00Z", loaded: "2025-06-09T10:05:00Z")
            // E: last year, the night 364 days before 2025-07-11, booked 2024-06-05.
            try await stage(
                fixture, id: "5005", type: "new", checkIn: "2024-07-12", nights: 1, nightly: 80,
                at: "2024-06-05T10:00:00Z", loaded: "2024-06-05T10:05:00Z")
            try await fixture.transform()

            // As of 06-10 12:00: A on 10, 11, 12; B cancelled; C (moved) on 11, 12.
            // 06-09 12:00 saw the same; 06-03 12:00 saw A and C's first version (10, 11); 05-11 nothing.
            let expected: [String: Row] = [
                "2025-07-10": (1, "100.00", "90.00", 0, -1, 1, 0),
                "2025-07-11": (2, "195.00", "175.50", 0, 0, 2, 1),
                "2025-07-12": (2, "195.00", "175.50", 0, 1, 2, 0),
            ]
            let before = try await pace(fixture)
            expect(before, expected, "as of 06-10")

            // As of 06-07 12:00 the cancelled booking was still on the books.
            let during = try await pace(fixture, at: "2025-06-07T12:00:00Z")
            #expect(during["2025-07-11"]?.rn == 3 && during["2025-07-12"]?.rn == 2, "as of 06-07: \(during)")

            let buckets = try await fixture.strings(
                """
                select stay_date || ' ' || days_before_arrival || ' ' || dba_bucket || ' ' || coalesce(adr_net::text, '-')
                from feeds.booking_pace_as_of($1::timestamptz, '2025-07-10', '2025-07-11', 'HTL003') order by 1
                """, [Self.asOf])
            #expect(buckets == ["2025-07-10 30 15-30 90.00", "2025-07-11 31 31-60 87.75"])

            // A late version of A (4 nights, OTA time 06-04) arrives on 06-20.
            try await stage(
                fixture, id: "5001", type: "update", checkIn: "2025-07-10", nights: 4, nightly: 100,
                at: "2025-06-04T10:00:00Z", loaded: "2025-06-20T00:00:00Z")
            try await fixture.transform()
            expect(try await pace(fixture), expected, "as of 06-10 after the late version")

            // include_late places it by OTA time: on the books from 06-04, so 07-13 appears,
            // and as of 06-03 (before its OTA time) A was still 3 nights: pickup over 7 days +1 there.
            let late = try await pace(fixture, includeLate: true)
            expect(
                late,
                expected.merging(["2025-07-13": (1, "100.00", "90.00", 0, 1, 1, 0)]) { old, _ in old },
                "as of 06-10 with include_late")
        }
    }
}
