import Foundation
import Logging
import OTAIngest
import PostgresClient

/// A signed rate update, verified and parsed, ready for staging.rate_observations.
struct PushedRate: Sendable {
    var source: String
    var idempotencyKey: String
    var bodyHash: String
    var propertyCode: String
    var rateId: String
    var roomCode: String
    var stayDate: String
    var price: String
    var currency: String
    var eventTime: String
    var raw: String
}

/// One connection that commits batches from the queue, one at a time (libpq allows
/// one thread per connection; the connection actor enforces it). Several run side
/// by side, so one batch's fsync overlaps the next batch's statements.
struct Committer: Sendable {
    let databaseURL: String
    let runId: String
    let maxBatch: Int
    let queue: CommitQueue
    let metrics: ReceiverMetrics
    let logger: Logger

    func run() async {
        var connection: PostgresConnection?
        var partitionsFor = ""
        while let batch = await queue.take(max: maxBatch) {
            let started = ContinuousClock.now
            do {
                if connection == nil {
                    let opened = try await PostgresConnection.connect(databaseURL)
                    // A committer keeps no session state, so a session the server dropped
                    // (a restart) is replaced before the next batch instead of failing it.
                    await opened.revivesDroppedSessions()
                    connection = opened
                }
                let conn = connection!
                // Observation logs are partitioned by load date; make sure today's exists.
                let today = WallClock.system.loadDate().description
                if partitionsFor != today {
                    _ = try await conn.execute("select staging.ensure_load_partitions($1::date)", [String(today)])
                    partitionsFor = String(today)
                }
                let results = try await commit(batch.map(\.0), on: conn)
                metrics.committed(batch: batch.count, latency: ContinuousClock.now - started)
                for (waiter, result) in zip(batch.map(\.1), results) { waiter.resume(returning: result) }
            } catch {
                // The connection is suspect after any failure here: start afresh next time.
                if let dead = connection { await dead.close() }
                connection = nil
                logger.error("commit of \(batch.count) requests failed: \(error)")
                for (_, waiter) in batch { waiter.resume(throwing: ReceiverUnavailable(reason: "\(error)")) }
            }
        }
        if let connection { await connection.close() }
    }

    /// One durable transaction for the whole batch, its records landed a statement per kind
    /// (`BatchLanding`); if PostgreSQL refuses one record,
    /// each is committed on its own so that only the bad one is refused.
    private func commit(_ landings: [Landing], on conn: PostgresConnection) async throws -> [Landed] {
        do {
            return try await conn.durableTransaction { tx in
                try await BatchLanding.land(landings, runId: runId, on: tx)
            }
        } catch let error as PostgresError where Self.isRecordError(error) && landings.count > 1 {
            var results: [Landed] = []
            for landing in landings { results.append(try await commitAlone(landing, on: conn)) }
            return results
        } catch let error as PostgresError where Self.isRecordError(error) {
            return [try await refuse(landings[0], error, on: conn)]
        }
    }

    /// PostgreSQL refused the record itself, not the request: bad data (22), a broken
    /// constraint (23), or a program limit such as jsonb nesting (54). One such record
    /// must not fail the others committed with it.
    static func isRecordError(_ error: PostgresError) -> Bool {
        StagingWriter.isDataError(error) || (error.kind == .server && error.sqlState.rawValue.hasPrefix("54"))
    }

    private func commitAlone(_ landing: Landing, on conn: PostgresConnection) async throws -> Landed {
        do {
            return try await conn.durableTransaction { tx in try await Self.land(landing, runId: runId, on: tx) }
        } catch let error as PostgresError where Self.isRecordError(error) {
            return try await refuse(landing, error, on: conn)
        }
    }

    /// A record PostgreSQL itself refused goes to dead letters with its raw bytes.
    private func refuse(_ landing: Landing, _ error: PostgresError, on conn: PostgresConnection) async throws
        -> Landed
    {
        let reason = "rejected by PostgreSQL (SQLSTATE \(error.sqlState.rawValue)): \(error.message)"
        let letter: DeadLetter
        let source: String
        switch landing {
        case .booking(let event):
            source = event.source
            letter = DeadLetter(
                stream: "reservations", propertyCode: event.version.propertyCode,
                recordKey: String(event.version.confirmationId), raw: event.raw, reason: reason, origin: event.origin)
        case .rate(let rate):
            source = rate.source
            letter = DeadLetter(
                stream: "rates", propertyCode: rate.propertyCode, recordKey: rate.idempotencyKey,
                raw: Array(rate.raw.utf8), reason: reason, origin: "push")
        case .deadLetter(let existing, let name):
            throw ReceiverUnavailable(reason: "dead letter \(existing.recordKey ?? "") for \(name) refused: \(error)")
        }
        try await conn.durableTransaction { tx in
            try await DeadLetterWriter.write([letter], source: source, runId: runId, batchId: nil, on: tx)
        }
        return .refused(reason)
    }

    static func land(_ landing: Landing, runId: String, on conn: isolated PostgresConnection) async throws -> Landed {
        switch landing {
        case .booking(let event):
            switch try await ReservationLanding.land(event, on: conn) {
            case .landed: return .stored
            case .duplicate: return .duplicate
            case .collision: return .collision
            }
        case .deadLetter(let letter, let source):
            try await DeadLetterWriter.write([letter], source: source, runId: runId, batchId: nil, on: conn)
            return .stored
        case .rate(let rate):
            return try await landRate(rate, runId: runId, on: conn)
        }
    }

    /// A rate update is a partial observation: it carries the price only. The cell's
    /// rate-level restrictions (closeout, min stay) are taken from its current version,
    /// so a pushed price never reopens a closed rate; the occupancy `base_rate` stands
    /// for comes from dims.rooms (1 adult for a single room, else 2).
    static func landRate(_ rate: PushedRate, runId: String, on conn: isolated PostgresConnection) async throws
        -> Landed
    {
        let rows = try await conn.query(
            """
            with receipt as (
                insert into ops.webhook_receipts (source, property_code, idempotency_key, body_hash, run_id)
                values ($1, $2, $3, $4, $5)
                on conflict do nothing
                returning 1
            ), occupancy as (
                select coalesce((select case when r.max_adults = 1 then 1 else 2 end from dims.rooms r
                                 where r.property_code = $2 and r.room_code = $7), 2) as adults
            )
            insert into staging.rate_observations
                (source, stream, property_code, rate_id, room_code, stay_date, adults, children, channel, price,
                 currency, closeout, min_stay, record_key, record_hash, observed_at, load_date, batch_id, run_id, raw,
                 origin)
            select $1, 'rates', $2, $6, $7, $8::date, o.adults, 0, '', $9::numeric, $10,
                   coalesce(f.closeout, false), coalesce(f.min_stay, 1), $3, $4, $11::timestamptz, $14::date,
                   $12, $5, $13, 'push'
            from receipt, occupancy o
            left join facts.rates f
              on f.property_code = $2 and f.rate_id = $6 and f.room_code = $7 and f.stay_date = $8::date
             and f.adults = o.adults and f.children = 0 and f.channel = '' and f.source = $1 and f.valid_to is null
            returning 1
            """,
            [
                rate.source, rate.propertyCode, rate.idempotencyKey, rate.bodyHash, runId, rate.rateId, rate.roomCode,
                rate.stayDate, rate.price, rate.currency, rate.eventTime,
                "\(runId)/rates/\(rate.propertyCode)/push:\(rate.idempotencyKey)", rate.raw,
                WallClock.system.loadDate().description,
            ])
        if !rows.isEmpty { return .stored }
        // Seen before: the same body is a redelivery; another body under the same key a collision.
        let stored = try await conn.query(
            "select body_hash from ops.webhook_receipts where source = $1 and property_code = $2 and idempotency_key = $3",
            [rate.source, rate.propertyCode, rate.idempotencyKey])
        return try stored.first?.decode(String.self, at: 0) == rate.bodyHash ? .duplicate : .collision
    }
}
