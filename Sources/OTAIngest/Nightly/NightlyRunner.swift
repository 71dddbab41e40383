import Foundation
import PostgresClient

/// `ota-ingest nightly`: migrate, pull every source, transform, reconcile,
/// the weekly full checks and retention, as one resumable night.
///
/// The night is a run of command "nightly" in ops.runs, under RunLedger's
/// lock (a second nightly finds it busy and exits 0), and each step is a run
/// of its own ("nightly: STEP", night_run_id = the night). A night that died
/// or failed is resumed under its id within 12 hours: finished steps are
/// taken as they were, and the steps with ledgers of their own (pulls,
/// reconciles) resume their own runs, so nothing lands twice.
public struct NightlyRunner: Sendable {
    public var databaseURL: String
    public var config: IngestConfig
    public var settings: NightlySettings
    public var clock: WallClock
    public var logFormat: RunLog.Format
    public var secrets: SecretResolver

    public init(
        databaseURL: String, config: IngestConfig, settings: NightlySettings = NightlySettings(),
        clock: WallClock = .system, logFormat: RunLog.Format = .text, secrets: SecretResolver = SecretResolver()
    ) {
        self.databaseURL = databaseURL
        self.config = config
        self.settings = settings
        self.clock = clock
        self.logFormat = logFormat
        self.secrets = secrets
    }

    public struct Outcome: Sendable {
        public var status: ExitStatus
        /// nil when another nightly held the lock.
        public var nightRunID: String?
        public var resumed: Bool
        public var steps: [StepResult]
        public var seconds: Double
        public var summary: String
        /// The night's figures in Prometheus text format.
        public var metrics: String
    }

    public func run() async throws -> Outcome {
        let started = ContinuousClock.now
        return try await PostgresConnection.withConnection(databaseURL) { connection in
            try await night(connection, started: started)
        }
    }

    private func night(_ connection: PostgresConnection, started: ContinuousClock.Instant) async throws -> Outcome {
        // The ledger itself may be what a migration creates: migrate before the night is recorded.
        let migrateStart = ContinuousClock.now
        let migrate: StepResult
        do {
            let report = try await Migrator().migrate(connection)
            migrate = StepResult(
                step: .migrate, status: "succeeded", exitStatus: .success, seconds: Self.since(migrateStart),
                counts: ["applied": report.applied.count, "feeds_applied": report.feedsApplied.count], error: nil)
        } catch {
            let result = StepResult.failed(.migrate, seconds: Self.since(migrateStart), error: "\(error)")
            return finishOutcome(night: nil, resumed: false, steps: [result], started: started)
        }
        let result = try await RunScope.run(
            command: "nightly", on: connection, logFormat: logFormat, clock: clock
        ) { active in
            try await steps(after: migrate, active: active, started: started)
        }
        switch result {
        case .busy:
            let message = "another `ota-ingest nightly` is in progress; nothing done"
            return Outcome(
                status: .success, nightRunID: nil, resumed: false, steps: [], seconds: Self.since(started),
                summary: message, metrics: "")
        case .finished(_, let outcome):
            return outcome
        }
    }

    /// The night's steps after the migration, within the night's run.
    private func steps(after migrate: StepResult, active: RunScope.Active, started: ContinuousClock.Instant)
        async throws -> RunScope.Ending<Outcome>
    {
        let night = active.run
        let connection = active.ledger
        let log = active.log
        log.info(night.resumed ? "resuming nightly" : "starting nightly")
        let plan = NightlyStep.plan(config)
        let ledger = StepLedger(night: night, connection: connection, plan: plan)
        var results: [StepResult] = []
        var reading = ProgressLine.Reading()
        reading.total = plan.count
        reading.done = 1
        reading.unit = .items("steps")
        // A pull can take an hour and the checks a second: no ETA from the steps done.
        reading.showsETA = false
        let progress = ProgressLine.standardError.begin("nightly", reading: reading)
        defer { ProgressLine.standardError.end(progress) }
        do {
            let earlier = try await ledger.earlierResults(plan: plan)
            try await ledger.begin(.migrate)
            try await ledger.record(migrate)
            results.append(migrate)
            for step in plan.dropFirst() {
                progress.update { $0.detail = step.name }
                defer { progress.update { $0.done += 1 } }
                if let done = earlier[step.name], done.status != "failed" {
                    results.append(done)
                    continue
                }
                let elapsed = ContinuousClock.now - started
                let remaining = settings.nightDeadline - elapsed
                guard remaining > .zero else {
                    let result = StepResult.failed(
                        step, seconds: 0,
                        error:
                            "not started: the night ran past its deadline of \(Int(settings.nightDeadline.seconds)) s; fix: rerun ota-ingest nightly (it resumes), or raise --night-deadline-minutes"
                    )
                    try await ledger.record(result)
                    results.append(result)
                    continue
                }
                if let inner = step.innerCommand,
                    var finished = try await ledger.innerRunFinished(inner, step: step)
                {
                    finished.fromEarlierAttempt = true
                    try await ledger.record(finished)
                    results.append(finished)
                    continue
                }
                try await ledger.begin(step)
                let stepStart = ContinuousClock.now
                var result: StepResult
                do {
                    let executor = StepExecutor(
                        databaseURL: databaseURL, config: config, settings: settings, clock: clock,
                        logFormat: logFormat, secrets: secrets, stepRunID: ledger.runID(of: step))
                    result = try await withDeadline(min(settings.stepDeadline, remaining)) {
                        try await executor.execute(step)
                    }
                } catch {
                    result = StepResult.failed(step, seconds: 0, error: "\(error)")
                }
                result.seconds = Self.since(stepStart)
                log.info("\(step.name): \(result.status) in \(String(format: "%.1f", result.seconds)) s")
                try await ledger.record(result)
                results.append(result)
            }
        } catch {
            return .failed(
                error, counts: [:],
                value: finishOutcome(night: night, resumed: night.resumed, steps: results, started: started))
        }
        let outcome = finishOutcome(night: night, resumed: night.resumed, steps: results, started: started)
        let runStatus: RunStatus =
            switch outcome.status {
            case .failure, .usage: .failed
            case .finishedWithDeadLetters: .deadLetters
            default: .succeeded
            }
        var counts = NightlyReport.totals(results)
        counts["exit_status"] = Int(outcome.status.rawValue)
        counts["elapsed_ms"] = Int(outcome.seconds * 1000)
        let failures = results.filter { $0.status == "failed" }.map { "\($0.step.name): \($0.error ?? "")" }
        return RunScope.Ending(
            status: runStatus, counts: counts, error: failures.isEmpty ? nil : failures.joined(separator: "; "),
            value: outcome)
    }

    private func finishOutcome(night: Run?, resumed: Bool, steps: [StepResult], started: ContinuousClock.Instant)
        -> Outcome
    {
        let status = ExitStatus.worst(steps.map(\.exitStatus))
        let seconds = Self.since(started)
        return Outcome(
            status: status, nightRunID: night?.id, resumed: resumed, steps: steps, seconds: seconds,
            summary: NightlyReport.render(night: night, steps: steps, status: status, seconds: seconds),
            metrics: NightlyReport.prometheus(night: night, steps: steps, status: status, seconds: seconds))
    }

    static func since(_ start: ContinuousClock.Instant) -> Double {
        let (whole, fraction) = (ContinuousClock.now - start).components
        return Double(whole) + Double(fraction) / 1e18
    }
}
