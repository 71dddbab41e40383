import Foundation
import PostgresClient

/// `ota-ingest load`: lands a file of historical records (NDJSON or a JSON
/// array) through the pull jobs' validation and landing.
///
/// The file is read in chunks and landed in parts; each part is a batch keyed
/// (run, source, stream, '', `file:<identity>:part:<n>`) and recorded in
/// ops.batches in the transaction that lands its rows, so a resumed run (the
/// same file again after a failure, under the same run id) skips what
/// committed. Bad records go to ops.dead_letters and the load goes on.
public struct BackfillLoader: Sendable {
    public enum Input: Sendable, Equatable {
        case file(String)
        case standardInput
    }

    /// A file that cannot be read: nothing was attempted (exit status 2).
    public struct InputError: UserFacingError {
        public var message: String
        public var exitStatus: ExitStatus { .usage }
        public var description: String { "load: " + message }
    }

    public var databaseURL: String
    public var sourceName: String
    public var stream: SourceStream
    public var input: Input
    public var allowDeadLetters: Bool
    public var forceNewRun: Bool
    public var logFormat: RunLog.Format
    public var limits: RecordReader.Limits
    public var clock: WallClock

    public init(
        databaseURL: String, sourceName: String, stream: SourceStream, input: Input, allowDeadLetters: Bool = false,
        forceNewRun: Bool = false, logFormat: RunLog.Format = .text, limits: RecordReader.Limits = .init(),
        clock: WallClock = .system
    ) {
        precondition(SourceStream.loadable.contains(stream), "load reads reservations, availability or rates")
        self.databaseURL = databaseURL
        self.sourceName = sourceName
        self.stream = stream
        self.input = input
        self.allowDeadLetters = allowDeadLetters
        self.forceNewRun = forceNewRun
        self.logFormat = logFormat
        self.limits = limits
        self.clock = clock
    }

    /// An open input and how its parts are named.
    struct Opened {
        var fd: Int32
        var label: String
        /// `file:<hex>` from path, size and mtime; nil for standard input, whose
        /// parts are named by their content instead.
        var identity: String?
        var size: Int?
    }

    public func run() async throws -> RunOutcome {
        let opened = try openInput()
        defer { if opened.fd != 0 { close(opened.fd) } }
        let command = "load \(stream.rawValue) \(sourceName) \(opened.identity ?? "stdin")"
        let result = try await RunScope.run(
            command: command, databaseURL: databaseURL, forceNew: forceNewRun, logFormat: logFormat, clock: clock
        ) { active in
            await load(opened, command: command, active: active)
        }
        switch result {
        case .busy:
            let message = "another `\(command)` run is in progress; nothing done; fix: wait for it to finish"
            ProgressLine.standardError.write("ota-ingest: \(message)\n")
            return RunOutcome(run: nil, status: .failure, counts: [:], summary: message)
        case .finished(_, let outcome):
            return outcome
        }
    }

    /// The load within its run: a failure is recorded in the run, not thrown.
    private func load(_ opened: Opened, command: String, active: RunScope.Active) async -> RunScope.Ending<RunOutcome> {
        let run = active.run
        let stats = active.counters
        let log = active.log
        let landing = LandingContext(
            sourceName: sourceName, runId: run.id, stats: stats, log: log, origin: "backfill")
        log.info("\(run.resumed ? "resuming" : "starting") \(command)", ["file": opened.label])
        var reading = ProgressLine.Reading()
        reading.total = opened.size
        reading.unit = .bytes
        let progress = ProgressLine.standardError.begin(
            "load \(stream.rawValue) \(sourceName)", reading: reading,
            counts: {
                [
                    ("records", stats[.records]), ("landed", stats[.landed]), ("dead letters", stats[.deadLetters]),
                ]
            })
        var extra: [String: Int] = [:]
        var failure: (any Error)?
        var reader = RecordReader(fileDescriptor: opened.fd, limits: limits)
        do {
            // Observation parts land on several connections at once; bookings on one, in file order.
            let count = stream == .reservations ? 1 : Self.landingConnections
            extra = try await PostgresConnection.withConnections(databaseURL, count: count) { connections in
                try await landParts(
                    &reader, opened: opened, run: run, landing: landing, progress: progress, connections: connections)
            }
        } catch {
            failure = error
            log.error("\(error)")
        }
        // Known as soon as the first byte was read, whatever happened after it.
        let format = reader.format?.rawValue ?? "empty"
        ProgressLine.standardError.end(progress)
        let elapsed = active.elapsed
        var counts = stats.snapshot
        counts.merge(extra) { $1 }
        counts["elapsed_ms"] = Int(elapsed.seconds * 1000)
        counts["peak_rss_kb"] = ProcessMemory.peakKilobytes()
        let (status, runStatus) = RunSummary.verdict(
            failed: failure != nil, deadLetters: stats[.deadLetters], allowDeadLetters: allowDeadLetters)
        func n(_ key: String) -> Int { counts[key] ?? 0 }
        var countLines: [RunSummary.Line] = [
            [
                ("records", n("records")), ("landed", n("landed")), ("duplicates", n("duplicates")),
                ("dead letters", n("dead_letters")), ("collisions", n("collisions")),
            ],
            [
                ("parts", n("pages")), ("parts already landed", n("batches_skipped")),
                ("records in them", n("records_already_landed")), ("peak memory MB", n("peak_rss_kb") / 1024),
            ],
        ]
        if stream != .reservations { countLines[0].remove(at: 4) }
        let summary = RunSummary.render(
            command: "load \(stream.rawValue) --source \(sourceName)", run: run, lines: countLines,
            notes: ["file \(opened.label)\(opened.size.map { " (\($0) bytes)" } ?? "")  format \(format)"],
            records: n("records"), elapsed: elapsed, status: runStatus, errors: failure.map { ["\($0)"] } ?? [])
        return RunScope.Ending(
            status: runStatus, counts: counts, error: failure.map { "\($0)" },
            value: RunOutcome(run: run, status: status, counts: counts, summary: summary))
    }

    private func openInput() throws -> Opened {
        guard case .file(let path) = input else {
            return Opened(fd: 0, label: "standard input", identity: nil, size: nil)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw InputError(
                message:
                    "\(path): \(reason.lowercased()); fix: check the path and permissions, or pass --file - to read standard input"
            )
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw InputError(
                message: "\(path): not a regular file; fix: name an NDJSON or JSON array file, or pass --file -")
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let mtime = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
        var hasher = FNV1a()
        hasher.add(Array(absolute.utf8))
        hasher.add([0])
        hasher.add(Array("\(info.st_size)/\(mtime)".utf8))
        return Opened(fd: fd, label: path, identity: "file:" + hasher.hex, size: Int(info.st_size))
    }

    /// Observation parts landing at once, each on its own connection, while the next
    /// part is read and validated: the server's work overlaps the client's.
    static let landingConnections = 2

    /// Lands every part not already landed by this run; returns counts the shared stats do not hold.
    private func landParts(
        _ reader: inout RecordReader, opened: Opened, run: Run, landing: LandingContext,
        progress: ProgressLine.Stage, connections: [PostgresConnection]
    ) async throws -> [String: Int] {
        let connection = connections[0]
        let loadDate = clock.loadDate()
        let rules = BackfillRecords.Rules(now: clock.now())
        let stream = stream
        // This run's landed parts (the run's lock keeps anyone else from adding to them).
        let landed = try await connection.withIsolation { conn in
            Set(
                try await conn.query(
                    """
                    select batch_range from ops.batches
                    where run_id = $1 and source = $2 and stream = $3 and property_code = ''
                    """, [run.id, sourceName, stream.rawValue]
                ).map { try $0.decode(String.self, at: 0) })
        }
        if stream != .reservations {
            try await connection.withIsolation { conn in
                _ = try await conn.execute("select staging.ensure_load_partitions($1::date)", [loadDate.description])
            }
        }
        var alreadyLanded = 0
        var handed = 0
        try await withThrowingTaskGroup(of: Int.self) { group in
            var idle = Array(connections.indices)
            // A file that turns unreadable (an array cut short) fails the run only once the
            // parts read before the cut have landed: leaving the group early would cancel them.
            func nextPart() async throws -> RecordReader.Part? {
                do {
                    return try reader.next()
                } catch {
                    try await group.waitForAll()
                    throw error
                }
            }
            while let part = try await nextPart() {
                // The part's share of the file counts as done once it has landed (or had).
                let extent = reader.bytesHanded - handed
                handed = reader.bytesHanded
                let key = BatchLedger.Key(
                    runId: run.id, source: sourceName, stream: stream.rawValue, propertyCode: "",
                    range: Self.partRange(part, identity: opened.identity))
                if landed.contains(key.range) {
                    landing.stats.add(.batchesSkipped)
                    progress.update { $0.done += extent }
                    alreadyLanded += part.records.count
                    continue
                }
                if stream == .reservations {
                    // One at a time and in file order: which "new" counts as a collision depends on order.
                    try await Self.landBookings(part, key: key, landing: landing, connection: connection)
                    landing.stats.add(.pages)
                    progress.update { $0.done += extent }
                    continue
                }
                let stamp = LoadStamp(
                    source: sourceName, propertyCode: "", observedAt: Timestamps.format(rules.now),
                    loadDate: loadDate.description, batchId: key.batchId, runId: run.id)
                // Parse only once a connection is free: at most one part per connection in memory.
                if idle.isEmpty, let done = try await group.next() { idle.append(done) }
                let job: @Sendable (PostgresConnection) async throws -> Void
                if stream == .availability {
                    let (rows, refused) = Self.parse(part, BackfillRecords.availability, stamp: stamp, rules: rules)
                    job = { try await Self.landObservations(rows, refused, part: part, key: key, landing: landing, $0) }
                } else {
                    let (rows, refused) = Self.parse(part, BackfillRecords.rate, stamp: stamp, rules: rules)
                    job = { try await Self.landObservations(rows, refused, part: part, key: key, landing: landing, $0) }
                }
                let index = idle.removeLast()
                let target = connections[index]
                group.addTask {
                    try await job(target)
                    progress.update { $0.done += extent }
                    return index
                }
            }
            try await group.waitForAll()
        }
        return ["records_already_landed": alreadyLanded]
    }

    /// `file:<identity>:part:<n>`; standard input has no identity of its own, so its
    /// parts are named by their bytes.
    static func partRange(_ part: RecordReader.Part, identity: String?) -> String {
        if let identity { return "\(identity):part:\(part.number)" }
        var hasher = FNV1a()
        part.bytes.withUnsafeBufferPointer { buffer in
            hasher.add(
                UnsafeBufferPointer(rebasing: buffer[part.records.first!.lowerBound..<part.records.last!.upperBound]))
        }
        return "file:stdin:part:\(part.number):\(hasher.hex)"
    }

    /// Lands one part's rows, dead letters and ledger entry in one transaction.
    static func landObservations<Row: StagingRow>(
        _ rows: [Row], _ refused: [RefusedRecord], part: RecordReader.Part, key: BatchLedger.Key,
        landing: LandingContext, _ connection: PostgresConnection
    ) async throws {
        try await connection.transaction { conn in
            if try await BatchLedger.isLanded(key, on: conn) { return }
            try await StagedBatch.land(
                rows, refused, page: part.bytes, key: key, duplicates: 0, context: landing, on: conn)
        }
        landing.stats.add(.pages)
    }

    /// Validates a part's observation records; the refused keep their place and reason.
    static func parse<Row: StagingRow>(
        _ part: RecordReader.Part,
        _ read: (Range<Int>, JSONScanner, LoadStamp, BackfillRecords.Rules) -> Result<Row, RecordRefusal>,
        stamp: LoadStamp, rules: BackfillRecords.Rules
    ) -> (rows: [Row], refused: [RefusedRecord]) {
        var rows: [Row] = []
        rows.reserveCapacity(part.records.count)
        var refused: [RefusedRecord] = []
        part.bytes.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            for (offset, record) in part.records.enumerated() {
                switch read(record, scanner, stamp, rules) {
                case .success(let row):
                    rows.append(row)
                case .failure(let refusal):
                    refused.append(
                        RefusedRecord(
                            raw: record, key: refusal.key ?? "record \(part.firstRecord + offset)",
                            reason: refusal.reason,
                            property: refusal.property))
                }
            }
        }
        return (rows, refused)
    }

    /// Lands a part's bookings one by one (each in a savepoint, so one PostgreSQL
    /// refuses does not spoil the rest), its dead letters and its ledger entry in one transaction.
    static func landBookings(
        _ part: RecordReader.Part, key: BatchLedger.Key, landing: LandingContext, connection: PostgresConnection
    ) async throws {
        var counts: [ReservationLanding.Outcome: Int] = [:]
        var letters: [DeadLetter] = []
        try await connection.transaction { conn in
            counts = [:]
            letters = []
            for (offset, record) in part.records.enumerated() {
                let raw = Array(part.bytes[record])
                switch BackfillRecords.reservation(record, in: part.bytes) {
                case .failure(let refusal):
                    letters.append(
                        DeadLetter(
                            stream: key.stream, propertyCode: refusal.property ?? "",
                            recordKey: refusal.key ?? "record \(part.firstRecord + offset)", raw: raw,
                            reason: refusal.reason, origin: "backfill"))
                case .success(let booking):
                    let event = ReservationLanding.Event(
                        source: key.source, version: booking.version, eventType: booking.eventType, syncType: nil,
                        origin: "backfill", raw: raw, batchId: key.batchId, runId: key.runId)
                    do {
                        let outcome = try await conn.transaction { try await ReservationLanding.land(event, on: $0) }
                        counts[outcome, default: 0] += 1
                    } catch let error as PostgresError where StagingWriter.isDataError(error) {
                        letters.append(
                            DeadLetter(
                                stream: key.stream, propertyCode: booking.version.propertyCode,
                                recordKey: String(booking.version.confirmationId), raw: raw,
                                reason:
                                    "rejected by PostgreSQL (SQLSTATE \(error.sqlState.rawValue)): \(error.message)",
                                origin: "backfill"))
                    }
                }
            }
            try await DeadLetterWriter.write(
                letters, source: key.source, runId: key.runId, batchId: key.batchId, on: conn)
            try await BatchLedger.record(
                key, rows: counts[.landed, default: 0] + counts[.collision, default: 0],
                duplicates: counts[.duplicate, default: 0], deadLetters: letters.count, on: conn)
        }
        landing.stats.add(.records, part.records.count)
        landing.stats.add(.landed, counts[.landed, default: 0])
        landing.stats.add(.duplicates, counts[.duplicate, default: 0])
        landing.stats.add(.collisions, counts[.collision, default: 0])
        landing.stats.add(.deadLetters, letters.count)
        if !letters.isEmpty {
            landing.log.warning("\(letters.count) records sent to dead letters", ["batch": key.range])
        }
    }
}

/// FNV-1a 64: names file parts (not a security boundary).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
    }

    var hex: String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}
