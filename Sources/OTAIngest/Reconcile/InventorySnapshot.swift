import Foundation
import PostgresClient

/// Snapshots of WebHotelier's availability and rate feeds. The feeds may be read
/// only a few times a day, so reconciliation never reads them for itself: its
/// snapshot is the latest complete feed read of the property (the night's
/// `pull rates`, from the rows that read landed), and a fresh read happens only
/// when none is younger than the feed interval, as a normal `pull rates` run.
enum InventorySnapshot {
    /// The latest `pull rates` run that finished (with or without dead letters) and
    /// landed this property's stream, with the time of its last observation.
    struct Read: Sendable {
        var runID: String
        var observedAt: Date
        var stayFrom: CivilDate?
        var stayTo: CivilDate?
        var loadDate: String
    }

    static func latestCompleteRead(
        source: String, stream: String, property: String, on connection: PostgresConnection
    ) async throws -> Read? {
        let rows = try await connection.query(
            """
            select r.run_id, min(split_part(b.batch_range, '..', 1)), max(split_part(b.batch_range, '..', 2)),
                   (min(r.started_at) at time zone 'UTC')::date::text
            from ops.runs r
            join ops.batches b on b.run_id = r.run_id
            where r.command = $1 and r.status in ('succeeded', 'dead_letters')
              and b.source = $2 and b.stream = $3 and b.property_code = $4
            group by r.run_id
            order by max(b.landed_at) desc
            limit 1
            """, ["pull rates \(source)", source, stream, property])
        guard let row = rows.first else { return nil }
        let runID = try row.decode(String.self, at: 0)
        let loadDate = try row.decode(String.self, at: 3)
        let observed = try await connection.query(
            stream == "availability"
                ? """
                select max(observed_at) from staging.availability_observations
                where run_id = $1 and source = $2 and property_code = $3 and load_date >= $4::date - 1 and origin = 'pull'
                """
                : """
                select max(observed_at) from staging.rate_observations
                where run_id = $1 and source = $2 and property_code = $3 and load_date >= $4::date - 1 and origin = 'pull'
                  and stream = 'rates'
                """, [runID, source, property, loadDate])
        guard let observedAt = try observed.first?.decode(Date?.self, at: 0) else { return nil }
        return Read(
            runID: runID, observedAt: observedAt, stayFrom: CivilDate(try row.decode(String.self, at: 1)),
            stayTo: CivilDate(try row.decode(String.self, at: 2)), loadDate: loadDate)
    }

    /// Whether the read is younger than the feed interval, by the loader's clock.
    static func isFresh(_ read: Read, interval: Duration, now: Date) -> Bool {
        now.timeIntervalSince(read.observedAt) < interval.seconds
    }

    /// Builds the snapshot of `read` from the rows it landed, in one transaction.
    static func snapshot(
        _ read: Read, source: String, stream: String, property: String, runID: String,
        on connection: PostgresConnection
    ) async throws -> Int64 {
        try await connection.transaction { conn in
            let id = try await SnapshotStore.insert(
                source: source, stream: stream, property: property,
                scope: "stay dates \(read.stayFrom?.description ?? "?")..\(read.stayTo?.description ?? "?")",
                readKind: "feed_read", takenAt: read.observedAt, stayFrom: read.stayFrom, stayTo: read.stayTo,
                modifiedSince: nil, feedRunID: read.runID, runID: runID, on: conn)
            let parameters: [(any PostgresBindable)?] = [id, read.runID, source, property, read.loadDate]
            if stream == "availability" {
                try await conn.execute(
                    """
                    insert into recon.snapshot_availability (snapshot_id, property_code, room_code, stay_date, allotment,
                        stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure)
                    select distinct on (room_code, stay_date) $1, property_code, room_code, stay_date, allotment,
                           stop_sell, min_stay, max_stay, closed_to_arrival, closed_to_departure
                    from staging.availability_observations
                    where run_id = $2 and source = $3 and property_code = $4 and load_date >= $5::date - 1
                      and origin = 'pull'
                    order by room_code, stay_date, observed_at desc, loaded_at desc
                    """, parameters)
            } else {
                try await conn.execute(
                    """
                    insert into recon.snapshot_rates (snapshot_id, property_code, rate_id, room_code, stay_date, adults,
                        children, channel, price, currency, closeout, min_stay, available)
                    select distinct on (rate_id, room_code, stay_date, adults, children, channel)
                           $1, property_code, rate_id, room_code, stay_date, adults, children, channel, price, currency,
                           closeout, min_stay, available
                    from staging.rate_observations
                    where run_id = $2 and source = $3 and property_code = $4 and load_date >= $5::date - 1
                      and origin = 'pull' and stream = 'rates'
                    order by rate_id, room_code, stay_date, adults, children, channel, observed_at desc, loaded_at desc
                    """, parameters)
            }
            // Entries the read could not parse are not in the snapshot: their regions (room,
            // rate, requested dates) are kept, so a fact the read could not show there is
            // unreadable rather than extra, and they are counted (replay them after a fix).
            try await conn.execute(
                """
                insert into recon.snapshot_unreadable (property_code, snapshot_id, region_no, room_code, rate_id, stay_from,
                                                       stay_to, reason)
                select $2, $1, row_number() over (order by dead_letter_id), nullif(context ->> 'room', ''),
                       nullif(context ->> 'rate', ''),
                       case when context ->> 'from' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then (context ->> 'from')::date end,
                       case when context ->> 'to' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then (context ->> 'to')::date end,
                       reason
                from ops.dead_letters
                where run_id = $3 and source = $4 and stream = $5 and property_code = $2 and replayed_at is null
                """, [id, property, read.runID, source, stream])
            let unreadable = try await conn.query(
                """
                select count(*)::integer from ops.dead_letters
                where run_id = $1 and source = $2 and stream = $3 and property_code = $4
                """, [read.runID, source, stream, property])[0].decode(Int.self, at: 0)
            _ = try await SnapshotStore.finish(
                id, table: stream == "availability" ? .availability : .rates, counts: ["unreadable": unreadable],
                on: conn)
            return id
        }
    }
}
