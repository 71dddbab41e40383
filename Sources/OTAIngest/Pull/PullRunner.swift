import Foundation
import PostgresClient

/// Runs one pull command end to end: the run ledger, the job, the summary and
/// the exit status. Shared by `pull reservations|rates|inventory`.
public struct PullRunner: Sendable {
    public enum Job: Sendable {
        case reservations(since: CivilDate?)
        /// The pull a WebHotelier PING asks for: one property, its pending list read
        /// under its own call-log key at most every `gap` (exempt from the polling
        /// interval, per the dialect), waiting for the property's lock if a scheduled
        /// pull holds it.
        case pingReservations(property: String, gap: Duration)
        case feeds([SourceStream])
        case inventory
    }

    public var databaseURL: String
    public var config: IngestConfig
    public var sourceName: String?
    public var clock: WallClock
    public var logFormat: RunLog.Format
    public var allowDeadLetters: Bool
    public var forceNewRun: Bool
    public var secrets: SecretResolver

    public init(
        databaseURL: String, config: IngestConfig, sourceName: String?, clock: WallClock = .system,
        logFormat: RunLog.Format = .text, allowDeadLetters: Bool = false, forceNewRun: Bool = false,
        secrets: SecretResolver = SecretResolver()
    ) {
        self.databaseURL = databaseURL
        self.config = config
        self.sourceName = sourceName
        self.clock = clock
        self.logFormat = logFormat
        self.allowDeadLetters = allowDeadLetters
        self.forceNewRun = forceNewRun
        self.secrets = secrets
    }

    /// The outcome, also printed as the summary.
    public typealias Outcome = RunOutcome

    public func run(_ job: Job) async throws -> Outcome {
        let command: String
        switch job {
        case .reservations(let since): command = since == nil ? "pull reservations" : "pull reservations --since"
        case .pingReservations(let property, _): command = "pull reservations --ping \(property)"
        case .feeds: command = "pull rates"
        case .inventory: command = "pull inventory"
        }
        let kinds = ConnectorRegistry.kinds(running: job)
        precondition(!kinds.isEmpty, "no connector runs \(command)")
        let source = try pickSource(kinds)
        // Secrets are resolved before anything starts, so a missing one is a clean exit 2.
        let connector = try ConnectorRegistry.connector(for: source.kind).init(
            source: source, secrets: secrets, job: job)

        let fullCommand = "\(command) \(source.name)"
        let result = try await RunScope.run(
            command: fullCommand, databaseURL: databaseURL, forceNew: forceNewRun, logFormat: logFormat, clock: clock
        ) { active in
            await work(job, active: active, source: source, command: fullCommand, connector: connector)
        }
        switch result {
        case .busy:
            let message = "another `\(fullCommand)` run is in progress; nothing done"
            ProgressLine.standardError.write("ota-ingest: \(message)\n")
            return Outcome(run: nil, status: .success, counts: [:], summary: message)
        case .finished(_, let outcome):
            return outcome
        }
    }

    /// The job within its run; failures per property are recorded, not thrown.
    private func work(
        _ job: Job, active: RunScope.Active, source: SourceConfig, command fullCommand: String,
        connector: any Connector
    ) async -> RunScope.Ending<Outcome> {
        let run = active.run
        let stats = active.counters
        let log = active.log
        var context = PullContext(
            databaseURL: databaseURL, source: source, run: run, stats: stats, clock: clock, log: log)
        switch job {
        case .reservations, .pingReservations: context.callStream = "reservations"
        case .feeds: context.callStream = "feeds"
        case .inventory: context.callStream = "inventory"
        }
        log.info("\(run.resumed ? "resuming" : "starting") \(fullCommand)")
        let progress = ProgressLine.standardError.begin(fullCommand, counts: { Self.progressCounts(stats) })
        let failures = await connector.pull(job, context: context)
        ProgressLine.standardError.end(progress)
        // Pipeline health reads these; losing them must not fail a pull that landed its data.
        do {
            try await context.answers.write(
                runId: run.id, source: source.name, stream: context.callStream, on: active.ledger)
        } catch {
            log.warning("could not record request counts in ops.pipeline_counts: \(error)")
        }
        let elapsed = active.elapsed
        var counts = stats.snapshot
        counts["elapsed_ms"] = Int(elapsed.seconds * 1000)
        counts["failed_properties"] = failures.keys.filter { !$0.isEmpty }.count
        counts["peak_rss_kb"] = ProcessMemory.peakKilobytes()
        let (status, runStatus) = RunSummary.verdict(
            failed: !failures.isEmpty, deadLetters: stats[.deadLetters], allowDeadLetters: allowDeadLetters)
        let error =
            failures.isEmpty
            ? nil
            : failures.keys.sorted().map { key in
                (key.isEmpty ? "" : "\(key): ") + "\(failures[key]!)"
            }.joined(separator: "; ")
        let summary = Self.summary(
            command: fullCommand, run: run, counts: counts, elapsed: elapsed, status: runStatus,
            properties: connector.properties,
            failures: failures)
        return RunScope.Ending(
            status: runStatus, counts: counts, error: error,
            value: Outcome(run: run, status: status, counts: counts, summary: summary))
    }

    /// The named source, or the only one of a kind whose connector runs the job; the
    /// messages name the first such kind (the job's usual dialect).
    private func pickSource(_ kinds: [SourceConfig.Kind]) throws -> SourceConfig {
        let kind = kinds[0]
        if let sourceName {
            let source = try config.source(named: sourceName)
            guard kinds.contains(source.kind) else {
                throw ConfigError(
                    "source \"\(sourceName)\" is a \(source.kind.rawValue) source; fix: name a \(kind.rawValue) source")
            }
            return source
        }
        let candidates = config.sources.filter { kinds.contains($0.kind) }
        guard candidates.count == 1 else {
            throw ConfigError(
                candidates.isEmpty
                    ? "no \(kind.rawValue) source configured; fix: add [sources.NAME] with kind = \"\(kind.rawValue)\" to the config file"
                    : "several \(kind.rawValue) sources (\(candidates.map(\.name).joined(separator: ", "))); fix: choose one with --source"
            )
        }
        return candidates[0]
    }

    static func summary(
        command: String, run: Run, counts: [String: Int], elapsed: Duration, status: RunStatus, properties: Int,
        failures: [String: any Error]
    ) -> String {
        func n(_ key: String) -> Int { counts[key] ?? 0 }
        return RunSummary.render(
            command: command, run: run,
            lines: [
                [
                    ("records", n("records")), ("landed", n("landed")), ("duplicates", n("duplicates")),
                    ("dead letters", n("dead_letters")), ("collisions", n("collisions")),
                ],
                [
                    ("requests", n("requests")), ("pages", n("pages")), ("retries", n("retries")),
                    ("rate limited", n("rate_limited")), ("synced", n("synced")),
                    ("already synced", n("already_synced")), ("validation retries", n("validation_retries")),
                ],
                [
                    ("properties", properties), ("skipped", n("skipped_properties")),
                    ("failed", n("failed_properties")), ("batches already landed", n("batches_skipped")),
                    ("peak memory MB", n("peak_rss_kb") / 1024),
                ],
            ], records: n("records"), elapsed: elapsed, status: status,
            errors: failures.keys.sorted().map { ($0.isEmpty ? "" : $0 + ": ") + "\(failures[$0]!)" })
    }

    /// What a pull's or a load's progress line counts.
    static func progressCounts(_ stats: RunCounters) -> [(name: String, value: Int)] {
        [
            ("records", stats[.records]), ("pages", stats[.pages]), ("dead letters", stats[.deadLetters]),
            ("retries", stats[.retries]),
        ]
    }
}
