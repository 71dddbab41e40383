import Foundation
import PostgresClient

/// Repairs bookings that a reservations snapshot showed missing or different:
/// each is fetched again (the snapshot keeps no body) and landed as a booking
/// version with origin `reconcile`, one batch per booking, so a rerun lands
/// nothing twice and an analyst can see which versions a repair wrote.
enum BookingRepair {
    /// Returns how many bookings were landed (or were already there).
    static func repair(
        _ bookings: [(id: String, kind: String)], snapshotID: Int64, account: PropertyAccount,
        context: PullContext, caller: SourceCaller, connection: PostgresConnection
    ) async throws -> Int {
        let code = account.propertyCode
        let client = WebHotelierClient(account: account, baseURL: context.source.baseURL, caller: caller)
        var repaired = 0
        for booking in bookings {
            guard let id = Int(booking.id) else { continue }
            let key = BatchLedger.Key(
                runId: context.run.id, source: context.source.name, stream: "reservations", propertyCode: code,
                range: "reconcile:\(snapshotID):\(id)")
            if try await connection.withIsolation({ try await BatchLedger.isLanded(key, on: $0) }) {
                repaired += 1
                continue
            }
            let envelope = try await client.reservation(id)
            switch BookingParser.parse(envelope.body, data: envelope.data, expectedId: id, expectedProperty: code) {
            case .failure(let refusal):
                // Still malformed at the OTA: nothing correct to land. The breach stays visible.
                context.log.warning(
                    "reservation \(id) could not be repaired: \(refusal.reason); fix: it is dead-lettered by the pulls, replay it after the OTA corrects it",
                    property: code)
            case .success(let version):
                let event = ReservationLanding.Event(
                    source: context.source.name, version: version,
                    eventType: booking.kind == "missing" ? "new" : "update", syncType: nil, origin: "reconcile",
                    raw: Array(envelope.body[envelope.data.range]), batchId: key.batchId, runId: context.run.id)
                try await connection.transaction { conn in
                    let outcome = try await ReservationLanding.land(event, on: conn)
                    try await BatchLedger.record(
                        key, rows: outcome == .duplicate ? 0 : 1, duplicates: outcome == .duplicate ? 1 : 0,
                        deadLetters: 0, on: conn)
                }
                repaired += 1
            }
        }
        return repaired
    }
}
