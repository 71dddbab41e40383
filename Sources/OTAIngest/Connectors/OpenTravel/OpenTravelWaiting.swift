import Foundation
import PostgresClient

/// ops.opentravel_waiting: what a queue served and the pull has not yet seen acknowledged,
/// so reservations close to the OTA's fallback can be shown before it happens.
public enum OpenTravelWaiting {
    struct Seen: Sendable {
        var hotel: String
        var id: String
        var otaTime: Date?
    }

    /// Notes a read's reservations (in the read's landing transaction).
    static func record(_ seen: [Seen], source: String, queue: String, now: Date, on conn: isolated PostgresConnection)
        async throws
    {
        guard !seen.isEmpty else { return }
        _ = try await conn.execute(
            """
            insert into ops.opentravel_waiting (source, queue, property_code, confirmation_id, first_seen, last_seen, ota_time)
            select $1, $2, s.hotel, s.id, $5::timestamptz, $5::timestamptz, s.ota_time::timestamptz
            from unnest($3::text[], $4::text[], $6::text[]) as s(hotel, id, ota_time)
            on conflict (source, queue, property_code, confirmation_id) do update
            set last_seen = excluded.last_seen,
                ota_time = least(ops.opentravel_waiting.ota_time, excluded.ota_time)
            """,
            [
                source, queue, PostgresTextArray(seen.map(\.hotel)), PostgresTextArray(seen.map(\.id)),
                Timestamps.format(now), PostgresTextArray(seen.map { $0.otaTime.map(Timestamps.format) }),
            ])
    }

    /// The acknowledgement was applied: these wait no more.
    static func acknowledged(_ seen: [Seen], source: String, queue: String, on conn: PostgresConnection) async throws {
        _ = try await conn.execute(
            """
            delete from ops.opentravel_waiting w
            using unnest($3::text[], $4::text[]) as s(hotel, id)
            where w.source = $1 and w.queue = $2 and w.property_code = s.hotel and w.confirmation_id = s.id
            """, [source, queue, PostgresTextArray(seen.map(\.hotel)), PostgresTextArray(seen.map(\.id))])
    }

    /// The queue read empty: nothing of it waits.
    static func queueEmpty(source: String, queue: String, on conn: PostgresConnection) async throws {
        _ = try await conn.execute(
            "delete from ops.opentravel_waiting where source = $1 and queue = $2", [source, queue])
    }

    /// Reservations waiting at least `age` for their acknowledgement, oldest first.
    public struct Late: Sendable {
        public var source: String
        public var queue: String
        public var propertyCode: String
        public var confirmationId: String
        public var minutes: Int
    }

    public static func late(olderThan age: Duration, source: String? = nil, on conn: PostgresConnection) async throws
        -> [Late]
    {
        let rows = try await conn.query(
            """
            select source, queue, property_code, confirmation_id,
                   floor(extract(epoch from waiting_for) / 60)::int
            from ops.opentravel_waiting_ages
            where waiting_for >= make_interval(secs => $1::double precision) and ($2::text is null or source = $2)
            order by waiting_since, source, queue, property_code, confirmation_id
            """, [String(Double(age.components.seconds)), source])
        return try rows.map {
            Late(
                source: try $0.decode(String.self, at: 0), queue: try $0.decode(String.self, at: 1),
                propertyCode: try $0.decode(String.self, at: 2), confirmationId: try $0.decode(String.self, at: 3),
                minutes: try $0.decode(Int.self, at: 4))
        }
    }
}
