import Foundation
import PostgresClient

/// `ota-ingest dlq replay`: re-validates unreplayed dead letters with today's
/// rules and lands those that now pass through the same landing code as pulls
/// and loads. A landed one gets replayed_at; one still refused gets attempts + 1,
/// last_seen and the current reason. A fix (a corrected parser, a relaxed
/// constraint) is what makes a replay succeed: the bytes themselves never change.
public struct DeadLetterReplay: Sendable {
    public var databaseURL: String
    public var filter: DeadLetterQueue.Filter
    public var allowDeadLetters: Bool
    public var logFormat: RunLog.Format
    /// With `--refetch`: where reservation dead letters are read again from.
    public var refetch: BookingRefetcher?
    public var clock: WallClock

    public init(
        databaseURL: String, filter: DeadLetterQueue.Filter, allowDeadLetters: Bool = false,
        logFormat: RunLog.Format = .text, refetch: BookingRefetcher? = nil, clock: WallClock = .system
    ) {
        self.databaseURL = databaseURL
        self.filter = filter
        self.allowDeadLetters = allowDeadLetters
        self.logFormat = logFormat
        self.refetch = refetch
        self.clock = clock
    }

    struct Candidate: Sendable {
        var id: Int64
        var source: String
        var stream: String
        var property: String
        var recordKey: String?
        var raw: [UInt8]
        /// How the record first arrived (ops.dead_letters.origin); a refetched booking is a recovery.
        var origin: String
        var firstSeen: String
        var context: [String: String]
    }

    enum Verdict {
        case landed(ReservationLanding.Outcome)
        case refused(String)
        case notReplayable(String)
    }

    public func run() async throws -> RunOutcome {
        let command = "dlq replay"
        // Replays are quick and judge today's rules: always a new run.
        let result = try await RunScope.run(
            command: command, databaseURL: databaseURL, forceNew: true, logFormat: logFormat, clock: clock
        ) { active in
            await replay(command: command, active: active)
        }
        switch result {
        case .busy:
            let message = "another `dlq replay` is in progress; nothing done; fix: wait for it to finish"
            ProgressLine.standardError.write("ota-ingest: \(message)\n")
            return RunOutcome(run: nil, status: .failure, counts: [:], summary: message)
        case .finished(_, let outcome):
            return outcome
        }
    }

    /// The replay within its run: a failure is recorded in the run, not thrown.
    private func replay(command: String, active: RunScope.Active) async -> RunScope.Ending<RunOutcome> {
        let run = active.run
        let stats = active.counters
        let log = active.log
        var notReplayable = 0
        var failure: (any Error)?
        do {
            notReplayable = try await PostgresConnection.withConnection(databaseURL) { connection in
                try await replayAll(run: run, stats: stats, log: log, connection: connection)
            }
        } catch {
            failure = error
            log.error("\(error)")
        }
        let elapsed = active.elapsed
        var counts = stats.snapshot
        counts["not_replayable"] = notReplayable
        counts["elapsed_ms"] = Int(elapsed.seconds * 1000)
        let (status, runStatus) = RunSummary.verdict(
            failed: failure != nil, deadLetters: stats[.deadLetters], allowDeadLetters: allowDeadLetters)
        func n(_ key: String) -> Int { counts[key] ?? 0 }
        let summary = RunSummary.render(
            command: command, run: run,
            lines: [
                [
                    ("dead letters tried", n("records")), ("landed", n("landed")), ("already stored", n("duplicates")),
                    ("collisions", n("collisions")),
                ],
                [("still refused", n("dead_letters")), ("not replayable", notReplayable)],
            ], records: n("records"), elapsed: elapsed, status: runStatus, errors: failure.map { ["\($0)"] } ?? [])
        return RunScope.Ending(
            status: runStatus, counts: counts, error: failure.map { "\($0)" },
            value: RunOutcome(run: run, status: status, counts: counts, summary: summary))
    }

    private func replayAll(run: Run, stats: RunCounters, log: RunLog, connection: PostgresConnection) async throws
        -> Int
    {
        let loadDate = clock.loadDate()
        let rules = BackfillRecords.Rules(now: clock.now())
        try await connection.withIsolation { conn in
            _ = try await conn.execute("select staging.ensure_load_partitions($1::date)", [loadDate.description])
        }
        var after: Int64 = 0
        var notReplayable = 0
        while true {
            let page = try await candidates(after: after, on: connection)
            guard let last = page.last else { break }
            after = last.id
            for var candidate in page {
                if let refetch, candidate.stream == "reservations" {
                    // The bytes of a dead letter never change; --refetch lands the booking as
                    // the OTA serves it now instead, through the same landing code.
                    switch await refetch.currentBody(of: candidate, stats: stats) {
                    case .success(let body):
                        candidate.raw = body
                        candidate.origin = "recovery"
                    case .failure(let refusal):
                        let refused = candidate
                        try await connection.withIsolation { conn in
                            try await Self.stillRefused(refused, reason: refusal.reason, run: run, on: conn)
                        }
                        stats.add(.records)
                        stats.add(.deadLetters)
                        log.info("dead letter \(candidate.id) not refetched: \(refusal.reason)")
                        continue
                    }
                }
                let key = BatchLedger.Key(
                    runId: run.id, source: candidate.source, stream: candidate.stream, propertyCode: candidate.property,
                    range: "dead-letter:\(candidate.id)")
                let stamp = LoadStamp(
                    source: candidate.source, propertyCode: "", observedAt: candidate.firstSeen,
                    loadDate: loadDate.description, batchId: key.batchId, runId: run.id)
                let verdict = try await connection.transaction { conn in
                    let verdict = try await Self.replay(candidate, stamp: stamp, rules: rules, on: conn)
                    switch verdict {
                    case .notReplayable:
                        return verdict
                    case .refused(let reason):
                        try await Self.stillRefused(candidate, reason: reason, run: run, on: conn)
                    case .landed:
                        try await conn.execute(
                            "update ops.dead_letters set replayed_at = now(), run_id = $2 where dead_letter_id = $1",
                            [candidate.id, run.id])
                    }
                    let refused = if case .refused = verdict { 1 } else { 0 }
                    let landed = if case .landed(let o) = verdict, o != .duplicate { 1 } else { 0 }
                    try await BatchLedger.record(
                        key, rows: landed, duplicates: refused == 0 && landed == 0 ? 1 : 0, deadLetters: refused,
                        on: conn)
                    return verdict
                }
                switch verdict {
                case .notReplayable(let why):
                    notReplayable += 1
                    log.info("dead letter \(candidate.id) not replayed: \(why)")
                case .refused(let reason):
                    stats.add(.records)
                    stats.add(.deadLetters)
                    log.info("dead letter \(candidate.id) still refused: \(reason)")
                case .landed(let outcome):
                    stats.add(.records)
                    switch outcome {
                    case .landed: stats.add(.landed)
                    case .duplicate: stats.add(.duplicates)
                    case .collision: stats.add(.collisions)
                    }
                }
            }
        }
        return notReplayable
    }

    /// A dead letter that is refused again: one more attempt, and today's reason.
    static func stillRefused(_ candidate: Candidate, reason: String, run: Run, on conn: isolated PostgresConnection)
        async throws
    {
        try await conn.execute(
            """
            update ops.dead_letters set attempts = attempts + 1, last_seen = now(), reason = $2, run_id = $3
            where dead_letter_id = $1
            """, [candidate.id, reason, run.id])
    }

    private func candidates(after: Int64, on connection: PostgresConnection) async throws -> [Candidate] {
        let rows = try await connection.query(
            """
            select dead_letter_id, source, stream, property_code, raw, origin,
                   to_char(first_seen at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), record_key, context::text
            from ops.dead_letters
            where replayed_at is null and dead_letter_id > $5 and \(DeadLetterQueue.Filter.condition)
            order by dead_letter_id limit 500
            """, filter.parameters + [after])
        return try rows.map { row in
            Candidate(
                id: try row.decode(Int64.self, at: 0), source: try row.decode(String.self, at: 1),
                stream: try row.decode(String.self, at: 2), property: try row.decode(String.self, at: 3),
                recordKey: try row.decode(String?.self, at: 7), raw: try row.decode([UInt8].self, at: 4),
                origin: try row.decode(String.self, at: 5), firstSeen: try row.decode(String.self, at: 6),
                context: Self.context(try row.decode(String.self, at: 8)))
        }
    }

    private static func context(_ json: String) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: String] ?? [:]
    }

    /// Re-reads one dead letter with the current rules and lands it if it passes.
    static func replay(
        _ candidate: Candidate, stamp: LoadStamp, rules: BackfillRecords.Rules, on conn: isolated PostgresConnection
    ) async throws -> Verdict {
        let raw = candidate.raw
        let whole = 0..<raw.count
        let fromFile = candidate.origin == "backfill"
        switch candidate.stream {
        case "reservations":
            if raw.first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) == UInt8(ascii: "<") {
                return .notReplayable("an XML body; replay reads JSON only")
            }
            switch BackfillRecords.reservation(whole, in: raw) {
            case .failure(let refusal):
                return .refused(refusal.reason)
            case .success(let booking):
                let event = ReservationLanding.Event(
                    source: candidate.source, version: booking.version, eventType: booking.eventType, syncType: nil,
                    origin: candidate.origin, raw: raw, batchId: stamp.batchId, runId: stamp.runId)
                do {
                    return .landed(try await conn.transaction { try await ReservationLanding.land(event, on: $0) })
                } catch let error as PostgresError where StagingWriter.isDataError(error) {
                    return .refused("rejected by PostgreSQL (SQLSTATE \(error.sqlState.rawValue)): \(error.message)")
                }
            }
        case "availability" where fromFile:
            let read = raw.withUnsafeBufferPointer {
                BackfillRecords.availability(whole, JSONScanner($0), stamp: stamp, rules: rules)
            }
            switch read {
            case .failure(let refusal): return .refused(refusal.reason)
            case .success(let row): return try await land(row, raw, on: conn)
            }
        case "rates" where fromFile:
            let read = raw.withUnsafeBufferPointer {
                BackfillRecords.rate(whole, JSONScanner($0), stamp: stamp, rules: rules)
            }
            switch read {
            case .failure(let refusal): return .refused(refusal.reason)
            case .success(let row): return try await land(row, raw, on: conn)
            }
        case "inventory":
            let read: Result<RateRow, RecordRefusal> = raw.withUnsafeBufferPointer { buffer in
                let scanner = JSONScanner(buffer)
                do {
                    let value = try scanner.value(in: whole)
                    return .success(try InventoryRecordParser.parse(value, scanner, stamp: stamp).1)
                } catch let refusal as InventoryRecordParser.Refusal {
                    return .failure(RecordRefusal(reason: refusal.reason))
                } catch {
                    return .failure(RecordRefusal(reason: "\(error)"))
                }
            }
            switch read {
            case .failure(let refusal): return .refused(refusal.reason)
            case .success(let row): return try await land(row, raw, on: conn)
            }
        case "availability", "rates":
            // A pulled WebHotelier feed entry: its room, rate and currency are in its context.
            if candidate.context.isEmpty {
                return .notReplayable(
                    "a pulled \(candidate.stream) feed entry dead-lettered before its room, rate and currency were kept; pull its dates again"
                )
            }
            var entryStamp = stamp
            entryStamp.propertyCode = candidate.property
            switch InventoryPageParser.replayEntry(
                raw, stream: candidate.stream, context: candidate.context, stamp: entryStamp)
            {
            case .failure(let refusal): return .refused(refusal.reason)
            case .success(.availability(let rows)): return try await land(rows, raw, on: conn)
            case .success(.rates(let rows)): return try await land(rows, raw, on: conn)
            }
        default:
            return .notReplayable("stream \(candidate.stream) has no replay rule")
        }
    }

    private static func land<Row: StagingRow>(_ row: Row, _ raw: [UInt8], on conn: isolated PostgresConnection)
        async throws -> Verdict
    {
        try await land([row], raw, on: conn)
    }

    /// Lands a record's rows all or none: a replay that PostgreSQL refuses in part stays a dead letter.
    private static func land<Row: StagingRow>(_ rows: [Row], _ raw: [UInt8], on conn: isolated PostgresConnection)
        async throws -> Verdict
    {
        do {
            // A savepoint, so the rows of a partly refused entry are undone together.
            try await conn.transaction { conn in
                let rejected = try await StagingWriter.land(rows, page: raw, on: conn)
                if let first = rejected.first { throw RowsRefused(reason: first.reason) }
            }
            return .landed(.landed)
        } catch let refused as RowsRefused {
            return .refused(refused.reason)
        }
    }

    private struct RowsRefused: Error {
        var reason: String
    }
}
