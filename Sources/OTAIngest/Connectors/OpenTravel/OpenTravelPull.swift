import Foundation
import PostgresClient
import Synchronization

/// Reads an OpenTravel account's two queues, lands every reservation, commits with
/// `synchronous_commit = on`, and only then acknowledges what it stored.
///
/// A crash between the commit and the acknowledgement leaves the reservations queued:
/// the next read lands them again as no-ops and acknowledges them. A stale
/// acknowledgement (400: changed since it was served) means read again. A reservation
/// that fails validation is left queued and read again, up to `validation_retries`
/// times, then dead-lettered and acknowledged.
public enum OpenTravelPull {
    /// Validation refusals seen per reservation, kept across reads (and, in `serve`, across cycles).
    public final class Refusals: Sendable {
        private let counts = Mutex<[String: Int]>([:])

        public init() {}

        func count(_ key: String) -> Int {
            counts.withLock {
                $0[key, default: 0] += 1; return $0[key]!
            }
        }
        func forget(_ key: String) { _ = counts.withLock { $0.removeValue(forKey: key) } }
    }

    /// What one read of one queue did.
    struct Read: Sendable {
        var served = 0
        var acknowledged = 0
        var stale = false
    }

    /// `pull reservations`: reads both queues until they are empty, at the source's cadence
    /// (a read every `poll_ms`, `after_ack_ms` after an acknowledgement).
    static func run(_ context: PullContext, login: (username: String, password: String)) async -> [String: any Error] {
        do {
            try await withAccount(context) { connection in
                let client = OpenTravelClient(
                    caller: context.makeCaller(), baseURL: context.source.baseURL, login: login,
                    auth: context.source.openTravel.auth, clock: context.clock)
                let refusals = Refusals()
                // Bounded: a queue that never empties (a storm of changes) ends the run; cron comes back.
                for round in 0..<1000 {
                    let (served, acknowledged) = try await cycle(
                        client: client, connection: connection, context: context, refusals: refusals)
                    if served == 0 { return }
                    if round == 999 {
                        context.log.warning("queues still not empty after 1000 reads; the next run goes on")
                        return
                    }
                    let settings = context.source.openTravel
                    try await Task.sleep(for: acknowledged > 0 ? settings.afterAckInterval : settings.pollInterval)
                }
            }
            return [:]
        } catch {
            return ["": error]
        }
    }

    /// One read of each queue; returns how many reservations were served and acknowledged.
    static func cycle(
        client: OpenTravelClient, connection: PostgresConnection, context: PullContext, refusals: Refusals
    ) async throws -> (served: Int, acknowledged: Int) {
        var served = 0
        var acknowledged = 0
        for queue in OpenTravelClient.Queue.allCases {
            let read = try await readOnce(
                queue, client: client, connection: connection, context: context, refusals: refusals)
            served += read.served
            acknowledged += read.acknowledged
        }
        return (served, acknowledged)
    }

    /// The account's advisory lock (one worker per account: its queues are one stream),
    /// held on a connection of its own for the body.
    static func withAccount(_ context: PullContext, _ body: (PostgresConnection) async throws -> Void) async throws {
        let connection = try await PostgresConnection.connect(context.databaseURL)
        let key = PostgresConnection.advisoryLockKey("ota-ingest opentravel account: \(context.source.name)")
        do {
            guard try await connection.tryAdvisoryLock(key) else {
                context.stats.add(.skippedProperties)
                context.log.warning("the account's queues are being read by another process; skipped")
                await connection.close()
                return
            }
            try await body(connection)
            _ = try await connection.advisoryUnlock(key)
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
    }

    static func readOnce(
        _ queue: OpenTravelClient.Queue, client: OpenTravelClient, connection: PostgresConnection,
        context: PullContext, refusals: Refusals
    ) async throws -> Read {
        let body = try await client.fetch(queue)
        context.stats.add(.pages)
        let document: OpenTravelDocument
        do {
            document = try OpenTravelDocument.read(body, accepting: [queue.kind])
        } catch let refusal as OpenTravelDocument.Refusal {
            // A body cut short or garbled in transit: nothing is acknowledged, the next read serves it again.
            context.stats.add(.retries)
            context.log.warning(
                "\(queue.path): the answer is not a whole \(queue.kind.rawValue) (\(refusal)); reading again")
            return Read(served: 1)
        }
        let items = OpenTravelReservation.all(in: document, origin: queue.origin, sourceName: context.source.name)
        var read = Read(served: items.count)
        guard !items.isEmpty else {
            try await OpenTravelWaiting.queueEmpty(source: context.source.name, queue: queue.rawValue, on: connection)
            return read
        }
        context.stats.add(.records, items.count)
        let source = context.source.name
        let retries = context.source.openTravel.validationRetries
        var events: [(ReservationLanding.Event, BatchLedger.Key)] = []
        var letters: [(DeadLetter, BatchLedger.Key, String)] = []
        var seen: [OpenTravelWaiting.Seen] = []
        for item in items {
            let hotel = item.hotel ?? ""
            let raw = Array(body[item.raw])
            switch item.result {
            case .success(let reservation):
                let version = reservation.version
                let batch = BatchLedger.Key(
                    runId: context.run.id, source: source, stream: "reservations", propertyCode: version.propertyCode,
                    range: "\(queue.path):\(version.confirmationId)@\(version.otaTime.map(Timestamps.format) ?? "")")
                events.append(
                    (
                        ReservationLanding.Event(
                            source: source, version: version, eventType: reservation.eventType, syncType: nil,
                            origin: "pull", raw: raw, rawFormat: "xml", batchId: batch.batchId, runId: context.run.id,
                            detectsCollision: false, takesStoredContent: reservation.cancelOnly),
                        batch
                    ))
                seen.append(.init(hotel: hotel, id: version.confirmationId, otaTime: version.otaTime))
                refusals.forget("\(queue.rawValue)/\(hotel)/\(version.confirmationId)")
            case .failure(let refusal):
                let id = item.id ?? ""
                let key = "\(queue.rawValue)/\(hotel)/\(id)"
                let count = refusals.count(key)
                seen.append(.init(hotel: hotel, id: id, otaTime: nil))
                guard count > retries, !id.isEmpty else {
                    context.stats.add(.validationRetries)
                    context.log.info(
                        "reservation \(id) refused (\(refusal)); left queued to be read again (retry \(count) of \(retries))",
                        property: hotel)
                    continue
                }
                let batch = BatchLedger.Key(
                    runId: context.run.id, source: source, stream: "reservations", propertyCode: hotel,
                    range: "\(queue.path):\(id)#refused")
                let reason = "\(refusal.reason) (refused on all \(count) reads)"
                letters.append(
                    (
                        DeadLetter(
                            stream: "reservations", propertyCode: hotel, recordKey: id, raw: raw, reason: reason,
                            origin: "pull"), batch, id
                    ))
                refusals.forget(key)
            }
        }
        // One durable commit for the read; only what it holds is acknowledged after it.
        let outcomes = try await connection.durableTransaction { conn in
            var outcomes: [ReservationLanding.Outcome] = []
            for (event, batch) in events {
                let outcome = try await ReservationLanding.land(event, on: conn)
                try await BatchLedger.record(
                    batch, rows: outcome == .duplicate ? 0 : 1, duplicates: outcome == .duplicate ? 1 : 0,
                    deadLetters: 0, on: conn)
                outcomes.append(outcome)
            }
            for (letter, batch, _) in letters {
                try await DeadLetterWriter.write(
                    [letter], source: source, runId: context.run.id, batchId: batch.batchId, on: conn)
                try await BatchLedger.record(batch, rows: 0, duplicates: 0, deadLetters: 1, on: conn)
            }
            try await OpenTravelWaiting.record(
                seen, source: source, queue: queue.rawValue, now: context.clock.now(), on: conn)
            return outcomes
        }
        for outcome in outcomes {
            switch outcome {
            case .landed: context.stats.add(.landed)
            case .duplicate: context.stats.add(.duplicates)
            case .collision: context.stats.add(.collisions)
            }
        }
        for (letter, _, _) in letters {
            context.stats.add(.deadLetters)
            context.log.warning(
                "reservation \(letter.recordKey ?? "") sent to dead letters and acknowledged: \(letter.reason)",
                property: letter.propertyCode)
        }
        let stored =
            events.map { ($0.0.version.propertyCode, $0.0.version.confirmationId) }
            + letters.map { ($0.0.propertyCode, $0.2) }
        guard !stored.isEmpty else { return read }
        switch try await client.acknowledge(stored.map(\.1), of: queue) {
        case .applied:
            read.acknowledged = stored.count
            context.stats.add(.synced, stored.count)
            try await OpenTravelWaiting.acknowledged(
                stored.map { .init(hotel: $0.0, id: $0.1, otaTime: nil) }, source: source, queue: queue.rawValue,
                on: connection)
        case .stale(let reason):
            read.stale = true
            context.log.info("\(queue.path): acknowledgement refused as stale (\(reason)); reading again")
        }
        return read
    }
}

/// The queues of one OpenTravel source read continuously, for `serve`: one cycle (a read
/// of each queue) at a time, on one connection that holds the account's lock for as long
/// as the session reads (a `pull reservations` started meanwhile skips, and the other way
/// round).
public actor OpenTravelPullSession {
    public nonisolated let source: SourceConfig
    private let context: PullContext
    private let client: OpenTravelClient
    private let refusals = OpenTravelPull.Refusals()
    private var connection: PostgresConnection?

    /// Resolves the account's secret now: a missing one stops `serve` from starting.
    public init(databaseURL: String, source: SourceConfig, secrets: SecretResolver, run: Run, log: RunLog) throws {
        self.source = source
        let login = try secrets.login(for: source)
        var context = PullContext(
            databaseURL: databaseURL, source: source, run: run, stats: RunCounters(), clock: .system, log: log)
        context.callStream = "reservations"
        self.context = context
        client = OpenTravelClient(
            caller: context.makeCaller(), baseURL: source.baseURL, login: login, auth: source.openTravel.auth,
            clock: .system)
    }

    /// One read of each queue; nil when another process holds the account (nothing read).
    public func cycle() async throws -> (served: Int, acknowledged: Int)? {
        let connection: PostgresConnection
        if let open = self.connection {
            connection = open
        } else {
            let opened = try await PostgresConnection.connect(context.databaseURL)
            let key = PostgresConnection.advisoryLockKey("ota-ingest opentravel account: \(source.name)")
            guard try await opened.tryAdvisoryLock(key) else {
                await opened.close()
                return nil
            }
            self.connection = opened
            connection = opened
        }
        do {
            return try await OpenTravelPull.cycle(
                client: client, connection: connection, context: context, refusals: refusals)
        } catch {
            // The session may be the broken part: the next cycle starts on a new one (and takes the lock again).
            await connection.close()
            self.connection = nil
            throw error
        }
    }

    /// Reservations of this source waiting longer than its warning age for their acknowledgement.
    /// Asked after failed cycles too (failing acknowledgements are what makes reservations
    /// wait), when the session has no connection: on one of its own then.
    public func late() async throws -> [OpenTravelWaiting.Late] {
        let warning = source.openTravel.fallbackWarning
        if let connection {
            return try await OpenTravelWaiting.late(olderThan: warning, source: source.name, on: connection)
        }
        return try await PostgresConnection.withConnection(context.databaseURL) {
            try await OpenTravelWaiting.late(olderThan: warning, source: source.name, on: $0)
        }
    }

    public func close() async {
        if let connection { await connection.close() }
        connection = nil
    }
}
