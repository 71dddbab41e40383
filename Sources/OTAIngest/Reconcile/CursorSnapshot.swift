import Foundation
import PostgresClient

/// Snapshots of a cursor feed: one full traversal without `updated_after`,
/// because an incremental read cannot see a price that changed without its
/// `updated_at` moving. One traversal serves every property; it becomes one
/// snapshot per property, all committed in one transaction with the keys.
enum CursorSnapshot {
    static let stream = "inventory"

    /// Reads the whole feed and writes the snapshots; returns (property, snapshot id).
    static func take(
        _ context: PullContext, token: String, properties wanted: Set<String>?, connection: PostgresConnection
    ) async throws -> [(property: String, id: Int64)] {
        let source = context.source
        let client = CursorClient(baseURL: source.baseURL, token: token, caller: context.makeCaller())
        let takenAt = context.clock.now()
        let stamp = LoadStamp(
            source: source.name, propertyCode: "", observedAt: Timestamps.format(takenAt), loadDate: "", batchId: "",
            runId: context.run.id)
        return try await connection.transaction { conn in
            try await conn.execute(
                """
                create temp table recon_incoming_rates (
                    property_code text, rate_id text, room_code text, stay_date date, adults integer,
                    children integer, channel text, price numeric(12, 2), currency text, available integer
                ) on commit drop
                """)
            var pages = 0
            var records = 0
            var unreadable = 0
            var page = try await client.page(limit: source.pageSize, updatedAfter: nil, cursor: nil)
            while true {
                pages += 1
                var rows: [RateRow] = []
                page.body.withUnsafeBufferPointer { buffer in
                    let scanner = JSONScanner(buffer)
                    for record in page.records {
                        if let (_, row) = try? InventoryRecordParser.parse(record, scanner, stamp: stamp) {
                            rows.append(row)
                        } else {
                            unreadable += 1
                        }
                    }
                }
                records += page.records.count
                let batch = rows
                _ = try await conn.copyIn(
                    "copy recon_incoming_rates (property_code, rate_id, room_code, stay_date, adults, children, channel, price, currency, available) from stdin"
                ) { writer in
                    for row in batch {
                        try writer.appendRow([
                            row.propertyCode, row.rateId, row.roomCode, row.stayDate, String(row.adults),
                            String(row.children), row.channel, row.price, row.currency, row.available.map(String.init),
                        ])
                    }
                }
                guard let next = page.nextCursor else { break }
                page = try await client.page(limit: source.pageSize, updatedAfter: nil, cursor: next)
            }
            // Properties the feed showed, and those the warehouse holds for this feed: a
            // property the feed stopped serving must show up as extra keys, not vanish.
            var codes = Set(
                try await conn.query("select distinct property_code from recon_incoming_rates").map {
                    try $0.decode(String.self, at: 0)
                })
            codes.formUnion(
                try await conn.query(
                    "select distinct property_code from facts.rates where source = $1 and stream = $2 and is_current",
                    [source.name, stream]
                ).map { try $0.decode(String.self, at: 0) })
            if let wanted { codes.formIntersection(wanted) }
            var taken: [(String, Int64)] = []
            for code in codes.sorted() {
                let id = try await SnapshotStore.insert(
                    source: source.name, stream: stream, property: code, scope: "every record of the feed",
                    readKind: "full_traversal", takenAt: takenAt, stayFrom: nil, stayTo: nil, modifiedSince: nil,
                    feedRunID: nil, runID: context.run.id, on: conn)
                // A record repeated on a later page (a fault some feeds have) is one key.
                try await conn.execute(
                    """
                    insert into recon.snapshot_rates (snapshot_id, property_code, rate_id, room_code, stay_date, adults,
                                                      children, channel, price, currency, closeout, min_stay, available)
                    select distinct on (property_code, rate_id, room_code, stay_date, adults, children, channel)
                           $1, property_code, rate_id, room_code, stay_date, adults, children, channel, price, currency,
                           false, 1, available
                    from recon_incoming_rates where property_code = $2
                    order by property_code, rate_id, room_code, stay_date, adults, children, channel
                    """, [id, code])
                _ = try await SnapshotStore.finish(
                    id, table: .rates, counts: ["pages": pages, "records": records, "unreadable": unreadable],
                    on: conn)
                taken.append((code, id))
            }
            return taken
        }
    }
}
