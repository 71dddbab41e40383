import Foundation
import PostgresClient

/// `pull reservations`: WebHotelier's PULL flow per property account.
///
/// List pending, fetch each booking, land it, commit, and only then mark it
/// synced: a crash between commit and sync leaves the booking queued, and the
/// next run lands it again as a no-op before marking it.
public enum ReservationPull {
    static let pendingEndpoint = "reservation/new"

    /// PING-driven reads are logged under their own key (dialect: exempt from the
    /// scheduled polling interval, bounded by their own gap).
    static let pingPendingEndpoint = "reservation/new#ping"

    public static func run(
        _ context: PullContext, accounts: [PropertyAccount], since: CivilDate? = nil, pingGap: Duration? = nil
    ) async -> [String: any Error] {
        await PropertyWorkers.run(accounts, context: context, waitForLock: pingGap != nil) {
            account, connection, caller in
            let client = WebHotelierClient(account: account, baseURL: context.source.baseURL, caller: caller)
            if let since {
                try await recover(since: since, client: client, connection: connection, context: context)
            } else {
                try await pullPending(client: client, connection: connection, context: context, pingGap: pingGap)
            }
        }
    }

    private static func pullPending(
        client: WebHotelierClient, connection: PostgresConnection, context: PullContext, pingGap: Duration?
    ) async throws {
        let code = client.account.propertyCode
        let endpoint = pingGap == nil ? pendingEndpoint : pingPendingEndpoint
        let firstLook = context.clock.now()
        var now = firstLook
        if let next = try await connection.withIsolation({ conn in
            try await CallLog.notBefore(
                source: context.source.name, property: code, endpoint: endpoint,
                interval: pingGap ?? context.source.pendingListInterval, now: firstLook, on: conn)
        }) {
            guard let pingGap else {
                context.stats.add(.skippedProperties)
                context.log.info(
                    "pending list was read less than the minimum interval ago; next allowed at \(Timestamps.format(next))",
                    property: code)
                return
            }
            // A PING must be answered by a read: wait out the (short) gap instead of skipping.
            let wait = min(pingGap, .seconds(max(0, next.timeIntervalSince(now))))
            try await Task.sleep(for: wait)
            now = context.clock.now()
        }
        let readAt = now
        try await connection.withIsolation { conn in
            try await CallLog.record(
                source: context.source.name, property: code, endpoint: endpoint, at: readAt, on: conn)
        }
        let pending = try await client.pendingReservations()
        context.stats.add(.pages)
        context.log.info("pending list read", property: code, ["count": String(pending.count)])
        for entry in pending {
            let batch = BatchLedger.Key(
                runId: context.run.id, source: context.source.name, stream: "reservations", propertyCode: code,
                range: "pending:\(entry.id)@\(entry.timestamp)")
            try await fetchAndLand(
                entry.id, eventType: ReservationLanding.eventType(forSyncType: entry.syncType),
                syncType: entry.syncType, origin: "pull", batch: batch, client: client, connection: connection,
                context: context)
            // Only now is the version (or its dead letter) committed, durably: acknowledge it.
            switch try await client.markSynced(entry.id) {
            case .synced:
                context.stats.add(.synced)
            case .notPending(let answer):
                context.stats.add(.alreadySynced)
                context.log.info(
                    "reservation \(entry.id) was no longer pending (\(answer)): already synced, counted and skipped",
                    property: code)
            }
        }
    }

    /// Re-reads bookings modified since a date through the paginated search,
    /// for what pushes or pulls missed. Nothing is marked synced here: the
    /// queue is the pending list's business.
    private static func recover(
        since: CivilDate, client: WebHotelierClient, connection: PostgresConnection, context: PullContext
    ) async throws {
        let code = client.account.propertyCode
        var page = 1
        let rows = 200
        while true {
            let (ids, total) = try await client.modifiedSince(since, page: page, rows: rows)
            context.stats.add(.pages)
            for id in ids {
                let batch = BatchLedger.Key(
                    runId: context.run.id, source: context.source.name, stream: "reservations", propertyCode: code,
                    range: "recovery:\(since):\(id)")
                try await fetchAndLand(
                    id, eventType: "update", syncType: nil, origin: "recovery", batch: batch, client: client,
                    connection: connection, context: context)
            }
            if ids.isEmpty || page * rows >= total { break }
            page += 1
        }
    }

    /// Fetches a body that failed validation (or that PostgreSQL refused) again this
    /// many times before dead-lettering it: "dead-letter queues for payloads that fail
    /// schema validation after three retries" (seeds/000). A server that served one bad
    /// body often serves a good one next.
    static let validationRetries = 3

    /// Fetches one booking and lands its version, fetching again after a refused body
    /// (with the source's backoff) up to `validationRetries` times; after the last
    /// refusal the body goes to dead letters. Either way something is durably
    /// committed when this returns, so the caller may acknowledge the booking.
    static func fetchAndLand(
        _ id: Int, eventType: String, syncType: String?, origin: String, batch: BatchLedger.Key,
        client: WebHotelierClient, connection: PostgresConnection, context: PullContext
    ) async throws {
        let code = client.account.propertyCode
        context.stats.add(.records)
        var fetches = 0
        while true {
            fetches += 1
            let envelope = try await client.reservation(id)
            let raw = Array(envelope.body[envelope.data.range])
            let refusal: String
            switch BookingParser.parse(envelope.body, data: envelope.data, expectedId: id, expectedProperty: code) {
            case .failure(let parserRefusal):
                refusal = parserRefusal.reason
            case .success(let version):
                let event = ReservationLanding.Event(
                    source: context.source.name, version: version, eventType: eventType, syncType: syncType,
                    origin: origin, raw: raw, batchId: batch.batchId, runId: context.run.id)
                do {
                    try await land(event, batch: batch, code: code, connection: connection, context: context)
                    return
                } catch let error as PostgresError where StagingWriter.isDataError(error) {
                    refusal = "rejected by PostgreSQL (SQLSTATE \(error.sqlState.rawValue)): \(error.message)"
                }
            }
            guard fetches <= validationRetries else {
                let reason = fetches > 1 ? "\(refusal) (refused on all \(fetches) fetches)" : refusal
                try await deadLetter(raw, id: id, reason: reason, origin: origin, batch: batch, connection, context)
                return
            }
            context.stats.add(.validationRetries)
            context.log.info(
                "reservation \(id) refused (\(refusal)); fetching it again (retry \(fetches) of \(validationRetries))",
                property: code)
            try await Task.sleep(for: client.caller.policy.delay(afterAttempt: fetches, retryAfter: nil))
        }
    }

    private static func land(
        _ event: ReservationLanding.Event, batch: BatchLedger.Key, code: String, connection: PostgresConnection,
        context: PullContext
    ) async throws {
        let outcome = try await connection.durableTransaction { conn in
            let outcome = try await ReservationLanding.land(event, on: conn)
            try await BatchLedger.record(
                batch, rows: outcome == .duplicate ? 0 : 1, duplicates: outcome == .duplicate ? 1 : 0,
                deadLetters: 0, on: conn)
            return outcome
        }
        switch outcome {
        case .landed: context.stats.add(.landed)
        case .duplicate: context.stats.add(.duplicates)
        case .collision:
            context.stats.add(.collisions)
            context.log.warning(
                "\"new\" for known confirmation number \(event.version.confirmationId) with other content: kept for audit as a collision",
                property: code)
        }
    }

    private static func deadLetter(
        _ raw: [UInt8], id: Int, reason: String, origin: String, batch: BatchLedger.Key,
        _ connection: PostgresConnection,
        _ context: PullContext
    ) async throws {
        let letter = DeadLetter(
            stream: "reservations", propertyCode: batch.propertyCode, recordKey: String(id), raw: raw, reason: reason,
            origin: origin)
        try await connection.durableTransaction { conn in
            try await DeadLetterWriter.write(
                [letter], source: context.source.name, runId: context.run.id, batchId: batch.batchId, on: conn)
            try await BatchLedger.record(batch, rows: 0, duplicates: 0, deadLetters: 1, on: conn)
        }
        context.stats.add(.deadLetters)
        context.log.warning("reservation \(id) sent to dead letters: \(reason)", property: batch.propertyCode)
    }
}
