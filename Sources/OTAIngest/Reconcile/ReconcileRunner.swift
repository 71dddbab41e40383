import Foundation
import PostgresClient

/// `ota-ingest reconcile`: per source, snapshot the OTA's authoritative state,
/// promote what landed, compare each snapshot with the facts, repair breaches
/// through staging when asked, verify the repair against the same snapshot,
/// prune old snapshots. One ops.runs row per source ("reconcile NAME"); a run
/// killed and rerun within 12 hours resumes under its id, so its repair
/// batches are not landed twice and its snapshots are compared again.
public struct ReconcileRunner: Sendable {
    public var databaseURL: String
    public var config: IngestConfig
    public var sourceName: String?
    public var stream: String?
    public var property: String?
    public var repair: Bool
    public var pinReference: Bool
    public var clock: WallClock
    public var logFormat: RunLog.Format
    public var secrets: SecretResolver

    public init(
        databaseURL: String, config: IngestConfig, sourceName: String? = nil, stream: String? = nil,
        property: String? = nil, repair: Bool = false, pinReference: Bool = false, clock: WallClock = .system,
        logFormat: RunLog.Format = .text, secrets: SecretResolver = SecretResolver()
    ) {
        self.databaseURL = databaseURL
        self.config = config
        self.sourceName = sourceName
        self.stream = stream
        self.property = property
        self.repair = repair
        self.pinReference = pinReference
        self.clock = clock
        self.logFormat = logFormat
        self.secrets = secrets
    }

    /// One (source, stream, property) compared.
    public struct Scope: Sendable {
        public var source: String
        public var stream: String
        public var property: String
        public var snapshotID: Int64?
        /// True when a stored snapshot was compared again (no new read).
        public var reusedSnapshot = false
        public var metrics: [String: Double] = [:]
        /// The figures of the comparison after the repair, when there was one.
        public var afterRepair: [String: Double]?
        public var breached = false
        public var repaired = false
        public var repairedKeys = 0
        /// Why the scope could not be compared, if it could not.
        public var problem: Problem?
        /// True when reading or comparing the scope failed (which fails the run).
        public var failed: Bool { problem?.isFailure ?? false }
        /// True when the scope is still breached after everything this run did.
        public var unrepairedBreach: Bool { breached && !repaired }
    }

    /// Why a scope was not compared: a failure fails the run; a scope with nothing
    /// to compare yet does not.
    public enum Problem: Sendable, CustomStringConvertible {
        case failed(String)
        case nothingToCompare(String)

        public var isFailure: Bool {
            if case .failed = self { return true }
            return false
        }

        public var description: String {
            switch self {
            case .failed(let reason): "failed: " + reason
            case .nothingToCompare(let reason): reason
            }
        }
    }

    public struct Outcome: Sendable {
        public var status: ExitStatus
        public var scopes: [Scope]
        public var runIDs: [String]
        public var summary: String
    }

    public func run() async throws -> Outcome {
        if let stream, SourceStream(rawValue: stream) == nil {
            throw ConfigError(
                "--stream \(stream) is unknown; fix: use one of \(SourceStream.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let sources: [SourceConfig]
        if let sourceName {
            sources = [try config.source(named: sourceName)]
        } else {
            sources = config.sources
        }
        guard !sources.isEmpty else {
            throw ConfigError("no source configured; fix: add [sources.NAME] to the config file")
        }
        let started = ContinuousClock.now
        var scopes: [Scope] = []
        var runIDs: [String] = []
        var failures: [String] = []
        for source in sources {
            let streams = Self.streams(of: source).filter { stream == nil || $0.rawValue == stream }
            if streams.isEmpty {
                if sourceName != nil {
                    throw ConfigError(
                        "source \"\(source.name)\" has no \(stream ?? "") stream; fix: use --stream \(Self.streams(of: source).map(\.rawValue).joined(separator: "|"))"
                    )
                }
                continue
            }
            do {
                let (runID, result) = try await reconcile(source, streams: streams)
                if let runID { runIDs.append(runID) }
                scopes += result
            } catch let error as ConfigError {
                throw error
            } catch {
                failures.append("\(source.name): \(error)")
            }
        }
        let failedScopes = scopes.filter(\.failed)
        // Unreadable entries never breach, but their dead letters are an outcome of the
        // read this run compared: exit 3, as the read's own run did.
        let unreadable = scopes.contains { ($0.metrics["unreadable"] ?? 0) > 0 }
        let status: ExitStatus =
            !failures.isEmpty || !failedScopes.isEmpty
            ? .failure
            : (scopes.contains { $0.unrepairedBreach }
                ? .driftBreached : (unreadable ? .finishedWithDeadLetters : .success))
        let summary = ReconcileSummary.render(
            scopes: scopes, runIDs: runIDs, failures: failures, elapsed: ContinuousClock.now - started,
            status: status)
        return Outcome(status: status, scopes: scopes, runIDs: runIDs, summary: summary)
    }

    static func streams(of source: SourceConfig) -> [SourceStream] {
        ConnectorRegistry.connector(for: source.kind).inventoryReads
    }

    /// One source: its run, snapshots, comparisons and repairs.
    private func reconcile(_ source: SourceConfig, streams: [SourceStream]) async throws -> (String?, [Scope]) {
        var accounts: [PropertyAccount] = []
        var token = ""
        if source.kind == .webhotelier {
            accounts = try secrets.accounts(for: source)
            if let property {
                accounts = accounts.filter { $0.propertyCode == property }
                guard !accounts.isEmpty else {
                    throw ConfigError(
                        "--property \(property) has no credentials for source \"\(source.name)\"; fix: add its account or name another property"
                    )
                }
            }
        } else {
            token = try secrets.token(for: source)
        }
        let command = "reconcile \(source.name)"
        let result = try await RunScope.run(
            command: command, databaseURL: databaseURL, logFormat: logFormat, clock: clock
        ) { active in
            try await reconcile(source, streams: streams, accounts: accounts, token: token, active: active)
        }
        switch result {
        case .busy:
            ProgressLine.standardError.write(
                "ota-ingest: another `\(command)` run is in progress; nothing done for \(source.name)\n")
            return (nil, [])
        case .finished(let run, let scopes):
            return (run.id, scopes)
        }
    }

    /// One source within its run, on the run's ledger connection.
    private func reconcile(
        _ source: SourceConfig, streams: [SourceStream], accounts: [PropertyAccount], token: String,
        active: RunScope.Active
    ) async throws -> RunScope.Ending<[Scope]> {
        let run = active.run
        let log = active.log
        let connection = active.ledger
        var context = PullContext(
            databaseURL: databaseURL, source: source, run: run, stats: active.counters, clock: clock, log: log)
        log.info("\(run.resumed ? "resuming" : "starting") reconcile \(source.name)")
        var scopes: [Scope] = []
        var reading = ProgressLine.Reading()
        reading.detail = "snapshots of \(streams.map(\.rawValue).joined(separator: ", "))"
        let stats = context.stats
        let progress = ProgressLine.standardError.begin(
            "reconcile \(source.name)", reading: reading,
            counts: { [("requests", stats[.requests]), ("retries", stats[.retries])] })
        defer { ProgressLine.standardError.end(progress) }
        do {
            scopes = try await takeSnapshots(
                source, streams: streams, accounts: accounts, token: token, context: &context, connection: connection)
            try await compareAll(
                &scopes, source: source, accounts: accounts, context: context, progress: progress,
                connection: connection)
            let ids = scopes.compactMap(\.snapshotID)
            if pinReference { try await SnapshotStore.pin(ids, on: connection) }
            let dropped = try await SnapshotStore.prune(keep: source.reconcile.keepSnapshots, on: connection)
            if dropped > 0 { log.info("pruned \(dropped) old snapshots") }
            let failed = scopes.contains(where: \.failed)
            return RunScope.Ending(
                status: failed ? .failed : .succeeded, counts: Self.counts(scopes), error: nil, value: scopes)
        } catch {
            return .failed(error, counts: Self.counts(scopes), value: scopes)
        }
    }

    static func counts(_ scopes: [Scope]) -> [String: Int] {
        [
            "scopes": scopes.count, "breached": scopes.filter(\.breached).count,
            "repaired": scopes.filter(\.repaired).count,
            "unrepaired_breaches": scopes.filter(\.unrepairedBreach).count,
            "not_compared": scopes.filter { $0.snapshotID == nil }.count,
        ]
    }

    // MARK: - Snapshots

    private func takeSnapshots(
        _ source: SourceConfig, streams: [SourceStream], accounts: [PropertyAccount], token: String,
        context: inout PullContext, connection: PostgresConnection
    ) async throws -> [Scope] {
        var scopes: [Scope] = []
        let now = clock.now()
        let reuse = source.reconcile.snapshotReuse
        func isRecent(_ stored: SnapshotStore.Stored?) -> Bool {
            guard let stored else { return false }
            let age = now.timeIntervalSince(stored.takenAt)
            return age >= 0 && age < reuse.seconds
        }
        if streams.contains(.inventory) {
            let stored = try await connection.query(
                """
                select property_code, snapshot_id, taken_at from recon.snapshots
                where source = $1 and stream = 'inventory'
                  and taken_at = (select max(taken_at) from recon.snapshots where source = $1 and stream = 'inventory')
                """, [source.name])
            let latest = try stored.map {
                (try $0.decode(String.self, at: 0), try $0.decode(Int64.self, at: 1), try $0.decode(Date.self, at: 2))
            }.filter { property == nil || $0.0 == property }
            if let first = latest.first, isRecent(.init(id: first.1, takenAt: first.2, feedRunID: nil, runID: "")) {
                for (code, id, _) in latest {
                    scopes.append(
                        Scope(
                            source: source.name, stream: "inventory", property: code, snapshotID: id,
                            reusedSnapshot: true))
                }
            } else {
                context.callStream = "inventory"
                let taken = try await CursorSnapshot.take(
                    context, token: token, properties: property.map { [$0] }, connection: connection)
                try await context.answers.write(
                    runId: context.run.id, source: source.name, stream: "inventory", on: connection)
                for (code, id) in taken {
                    scopes.append(Scope(source: source.name, stream: "inventory", property: code, snapshotID: id))
                }
            }
        }
        if streams.contains(.reservations) {
            for account in accounts {
                let code = account.propertyCode
                var scope = Scope(source: source.name, stream: "reservations", property: code)
                do {
                    let stored = try await SnapshotStore.latest(
                        source: source.name, stream: "reservations", property: code, on: connection)
                    if let stored, isRecent(stored) {
                        scope.snapshotID = stored.id
                        scope.reusedSnapshot = true
                    } else {
                        scope.snapshotID = try await ReservationSnapshot.take(
                            context, account: account, caller: context.makeCaller(property: code),
                            connection: connection)
                    }
                } catch {
                    scope.problem = .failed("\(error)")
                    context.log.error("reservations snapshot failed: \(error)", property: code)
                }
                scopes.append(scope)
            }
            try await context.answers.write(
                runId: context.run.id, source: source.name, stream: "reservations", on: connection)
        }
        let feedStreams = streams.filter(InventoryPull.streams.contains)
        if !feedStreams.isEmpty {
            scopes += try await feedSnapshots(
                source, streams: feedStreams, accounts: accounts, context: context, connection: connection)
        }
        return scopes
    }

    /// WebHotelier feeds: reuse the latest complete read younger than the feed
    /// interval; for the properties that have none, one `pull rates` run reads
    /// them (it is that night's pull, and honours the interval itself).
    private func feedSnapshots(
        _ source: SourceConfig, streams: [SourceStream], accounts: [PropertyAccount], context: PullContext,
        connection: PostgresConnection
    ) async throws -> [Scope] {
        let now = clock.now()
        var stale: [String] = []
        for account in accounts {
            for stream in streams {
                let read = try await InventorySnapshot.latestCompleteRead(
                    source: source.name, stream: stream.rawValue, property: account.propertyCode, on: connection)
                if read.map({ !InventorySnapshot.isFresh($0, interval: source.feedInterval, now: now) }) ?? true {
                    stale.append(account.propertyCode)
                    break
                }
            }
        }
        var pullProblem: Problem?
        if !stale.isEmpty {
            var pullConfig = config
            if let index = pullConfig.sources.firstIndex(where: { $0.name == source.name }) {
                pullConfig.sources[index].properties = stale
            }
            context.log.info(
                "no feed read younger than the feed interval for \(stale.joined(separator: ", ")); reading the feeds once as `pull rates`"
            )
            let pull = PullRunner(
                databaseURL: databaseURL, config: pullConfig, sourceName: source.name, clock: clock,
                logFormat: logFormat, allowDeadLetters: true, secrets: secrets)
            let outcome = try await pull.run(.feeds(streams))
            ProgressLine.standardError.write(outcome.summary + "\n")
            if outcome.status == .failure {
                pullProblem = .failed("the feed read failed (see the pull rates run above)")
            }
        }
        var scopes: [Scope] = []
        for account in accounts {
            let code = account.propertyCode
            for stream in streams.map(\.rawValue) {
                var scope = Scope(source: source.name, stream: stream, property: code)
                if let read = try await InventorySnapshot.latestCompleteRead(
                    source: source.name, stream: stream, property: code, on: connection)
                {
                    let stored = try await SnapshotStore.latest(
                        source: source.name, stream: stream, property: code, on: connection)
                    if let stored, stored.feedRunID == read.runID {
                        scope.snapshotID = stored.id
                        scope.reusedSnapshot = true
                    } else {
                        scope.snapshotID = try await InventorySnapshot.snapshot(
                            read, source: source.name, stream: stream, property: code, runID: context.run.id,
                            on: connection)
                    }
                } else {
                    scope.problem =
                        pullProblem
                        ?? .nothingToCompare(
                            "no complete feed read yet and none allowed before the feed interval passes; fix: run `ota-ingest pull rates` when allowed, then reconcile"
                        )
                }
                scopes.append(scope)
            }
        }
        return scopes
    }

    // MARK: - Comparison and repair

    private func compareAll(
        _ scopes: inout [Scope], source: SourceConfig, accounts: [PropertyAccount], context: PullContext,
        progress: ProgressLine.Stage, connection: PostgresConnection
    ) async throws {
        let comparison = try SnapshotComparison()
        let transform = try TransformRunner()
        // Drift is measured after everything landed before the snapshot is promoted.
        progress.update { $0.detail = "promote what landed" }
        _ = try await transform.run(connection)
        let compared = scopes.filter { $0.snapshotID != nil }.count
        progress.update {
            $0.detail = "compare"
            $0.total = compared
            $0.unit = .items("scopes")
        }
        var repairedAny = false
        for index in scopes.indices where scopes[index].snapshotID != nil {
            defer { progress.update { $0.done += 1 } }
            let scope = scopes[index]
            progress.update { $0.detail = "compare \(scope.stream) \(scope.property)" }
            let threshold = source.reconcile.threshold(for: scope.stream)
            let key = BatchLedger.Key(
                runId: context.run.id, source: source.name, stream: scope.stream, propertyCode: scope.property,
                range: "reconcile:\(scope.snapshotID!)")
            let result = try await comparison.compare(
                snapshotID: scope.snapshotID!, stream: scope.stream, threshold: threshold, repair: repair,
                afterRepair: false, batch: key, on: connection)
            scopes[index].metrics = result.metrics
            scopes[index].breached = result.breached
            guard repair && result.breached else { continue }
            var repairedKeys = result.repairedKeys
            if scope.stream == "reservations",
                let account = accounts.first(where: { $0.propertyCode == scope.property })
            {
                repairedKeys = try await BookingRepair.repair(
                    result.bookingsToRepair, snapshotID: scope.snapshotID!, account: account, context: context,
                    caller: context.makeCaller(property: scope.property), connection: connection)
                try await context.answers.write(
                    runId: context.run.id, source: source.name, stream: "reservations", on: connection)
            }
            scopes[index].repairedKeys = repairedKeys
            repairedAny = true
        }
        guard repairedAny else { return }
        progress.update {
            $0.detail = "verify repairs"
            $0.total = nil
            $0.done = 0
        }
        _ = try await transform.run(connection)
        // Verify against the same snapshots: the repair worked if nothing is breached now.
        for index in scopes.indices where scopes[index].breached && scopes[index].snapshotID != nil {
            let scope = scopes[index]
            let key = BatchLedger.Key(
                runId: context.run.id, source: source.name, stream: scope.stream, propertyCode: scope.property,
                range: "reconcile:\(scope.snapshotID!)")
            let result = try await comparison.compare(
                snapshotID: scope.snapshotID!, stream: scope.stream,
                threshold: source.reconcile.threshold(for: scope.stream), repair: false, afterRepair: true,
                batch: key, on: connection)
            scopes[index].afterRepair = result.metrics
            scopes[index].repaired = !result.breached
        }
    }
}
