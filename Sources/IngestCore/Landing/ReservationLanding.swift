import Foundation
import PostgresClient

/// Lands booking versions in staging.reservation_events.
///
/// The unique (source, confirmation_id, content_hash) index makes a version
/// land once however it arrives. A "new" for a known confirmation number with
/// other content is kept for audit as a collision, never as a second booking.
public enum ReservationLanding {
    public enum Outcome: Sendable, Equatable {
        case landed
        case duplicate
        case collision
    }

    public struct Event: Sendable {
        public var source: String
        public var version: BookingVersion
        public var eventType: String
        public var syncType: String?
        public var origin: String
        public var raw: [UInt8]
        public var rawFormat: String
        public var batchId: String
        public var runId: String
        /// Whether a "new" with other content than a stored version is a collision. OpenTravel
        /// says no: its queues deliver a change made before the acknowledgement as new, and
        /// pushes may arrive out of order, so there a "new" is a version like any other.
        public var detectsCollision: Bool
        /// A cancellation that carries no content (OpenTravel's `OTA_CancelRQ`): it lands as
        /// the latest stored version's content with status 0, or as it is when none is stored.
        public var takesStoredContent: Bool

        public init(
            source: String, version: BookingVersion, eventType: String, syncType: String?, origin: String,
            raw: [UInt8], rawFormat: String = "json", batchId: String, runId: String, detectsCollision: Bool = true,
            takesStoredContent: Bool = false
        ) {
            self.source = source
            self.version = version
            self.eventType = eventType
            self.syncType = syncType
            self.origin = origin
            self.raw = raw
            self.rawFormat = rawFormat
            self.batchId = batchId
            self.runId = runId
            self.detectsCollision = detectsCollision
            self.takesStoredContent = takesStoredContent
        }
    }

    /// The staging event type for a pending list's syncType.
    public static func eventType(forSyncType syncType: String) -> String {
        switch syncType.uppercased() {
        case "NEW": return "new"
        case "CL": return "cancel"
        default: return "update"
        }
    }

    public static func land(_ event: Event, on connection: isolated PostgresConnection) async throws -> Outcome {
        let data = String(decoding: event.version.data, as: UTF8.self)
        // On one server the landed_xid column's default, pg_current_xact_id(), is this insert's
        // transaction. On a Citus cluster the insert runs whole on the property's worker, where a
        // default would give the worker's transaction id, not the coordinator's that the
        // promotion marks compare with (sql/migrations/0090_landing_fence.sql): there the id is
        // read first, with the fence's shared lock, and passed. Callers hold a transaction, so it
        // is this insert's own. Whether the warehouse is distributed is read once per session:
        // `ota-ingest distribute` runs before ota-ingest is pointed at the coordinator.
        var parameters: [(any PostgresBindable)?] = [
            event.source, event.version.propertyCode, String(event.version.confirmationId), event.eventType,
            event.syncType, event.origin, event.version.otaTime.map(Timestamps.format), event.raw, event.rawFormat,
            event.batchId, data, event.runId, event.takesStoredContent, event.detectsCollision,
        ]
        var xidColumn = "", xidValue = ""
        if try await isDistributed(connection) {
            parameters.append(
                try await connection.query("select ops.fenced_xact_id()::text")[0].decode(String.self, at: 0))
            (xidColumn, xidValue) = (", landed_xid", ", $15::xid8")
        }
        // The hash is taken over jsonb's canonical text, so the same version hashes
        // the same whether it came by pull, JSON push or XML push.
        let rows = try await connection.query(
            """
            with incoming as (
                select case when $13 then coalesce(
                           (select e.data || $11::jsonb
                            from staging.reservation_events e
                            where e.source = $1 and e.property_code = $2 and e.confirmation_id = $3
                              and not e.is_collision and e.data ? 'roomStay'
                            order by coalesce(e.ota_time, e.loaded_at) desc, e.event_id desc
                            limit 1),
                           $11::jsonb)
                       else $11::jsonb end as data
            ), hashed as (
                select data, encode(sha256(convert_to(data::text, 'UTF8')), 'hex') as content_hash from incoming
            )
            insert into staging.reservation_events
                (source, property_code, confirmation_id, event_type, sync_type, origin, ota_time, content_hash,
                 is_collision, raw, raw_format, data, batch_id, run_id\(xidColumn))
            select $1, $2, $3, $4, $5, $6, $7::timestamptz, h.content_hash,
                   $4 = 'new' and $14 and exists (
                       select 1 from staging.reservation_events e
                       -- The property (a booking never changes it) lets the version key's
                       -- index answer this; without it every "new" scans the table.
                       where e.source = $1 and e.property_code = $2 and e.confirmation_id = $3
                         and not e.is_collision
                         and e.content_hash <> h.content_hash),
                   $8, $9, h.data, $10, $12\(xidValue)
            from hashed h
            on conflict (source, property_code, confirmation_id, content_hash) do nothing
            returning is_collision
            """, parameters)
        guard let row = rows.first else { return .duplicate }
        return try row.decode(Bool.self, at: 0) ? .collision : .landed
    }

    /// Whether the warehouse is distributed by Citus, asked of the server once per session.
    static func isDistributed(_ connection: isolated PostgresConnection) async throws -> Bool {
        if let known = connection.sessionFact("ops.is_distributed") { return known }
        let distributed = try await connection.query("select ops.is_distributed()")[0].decode(Bool.self, at: 0)
        connection.rememberSessionFact("ops.is_distributed", distributed)
        return distributed
    }
}
