import Foundation
import PostgresClient

/// Does one step's work with the same runners the single commands use, and
/// says what needs attention. Each step opens connections of its own, so a
/// step cut off at its deadline leaves the night's connection usable.
struct StepExecutor: Sendable {
    var databaseURL: String
    var config: IngestConfig
    var settings: NightlySettings
    var clock: WallClock
    var logFormat: RunLog.Format
    var secrets: SecretResolver
    var stepRunID: String

    func execute(_ step: NightlyStep) async throws -> StepResult {
        switch step {
        case .migrate:
            return try await PostgresConnection.withConnection(databaseURL) { connection in
                let report = try await Migrator().migrate(connection)
                return done(step, counts: ["applied": report.applied.count])
            }
        case .pull(let source, let kind):
            return try await pull(step, source: source, kind: kind)
        case .transform:
            return try await transform(step)
        case .reconcile(let source):
            return try await reconcile(step, source: source)
        case .checks:
            return try await PostgresConnection.withConnection(databaseURL) {
                try await FullChecks.runIfDue(step, settings: settings, runID: stepRunID, on: $0)
            }
        case .retention:
            return try await PostgresConnection.withConnection(databaseURL) { connection in
                let counts = try await LedgerRetention.apply(settings, on: connection)
                return done(step, counts: counts)
            }
        case .guestDataAging:
            return try await PostgresConnection.withConnection(databaseURL) { connection in
                let erased = try await Retention.eraseAgedGuestData(
                    olderThanDays: settings.guestDataRetentionDays, today: CivilDate(clock.now()), runID: stepRunID,
                    on: connection)
                return done(
                    step,
                    counts: [
                        "guest_bookings_erased": erased.bookings, "guest_versions_erased": erased.events,
                        "guest_dead_letters_erased": erased.deadLetters,
                    ])
            }
        }
    }

    private func done(_ step: NightlyStep, counts: [String: Int]) -> StepResult {
        StepResult(step: step, status: "succeeded", exitStatus: .success, seconds: 0, counts: counts, error: nil)
    }

    private func pull(_ step: NightlyStep, source: String, kind: NightlyStep.PullKind) async throws -> StepResult {
        let runner = PullRunner(
            databaseURL: databaseURL, config: config, sourceName: source, clock: clock, logFormat: logFormat,
            allowDeadLetters: false, forceNewRun: false, secrets: secrets)
        let job: PullRunner.Job =
            switch kind {
            case .reservations: .reservations(since: nil)
            case .rates: .feeds(InventoryPull.streams)
            case .inventory: .inventory
            }
        let outcome = try await runner.run(job)
        ProgressLine.standardError.write(outcome.summary + "\n")
        guard outcome.run != nil else {
            return StepResult.failed(
                step, seconds: 0,
                error:
                    "another `\(step.name)` run is in progress, so this night pulled nothing; fix: let it finish, then rerun ota-ingest nightly"
            )
        }
        let counts = outcome.counts
        var result = StepResult(
            step: step,
            status: outcome.status == .failure
                ? "failed" : (outcome.status == .finishedWithDeadLetters ? "dead_letters" : "succeeded"),
            exitStatus: outcome.status, seconds: 0, counts: counts, error: nil)
        if outcome.status == .failure {
            result.error = "see the `\(step.name)` run \(outcome.run?.id ?? "") in ops.runs"
            result.attention.append(Attention(.failedStep, "\(step.name) failed: \(result.error!)"))
        }
        if let letters = counts["dead_letters"], letters > 0 {
            result.attention.append(
                Attention(
                    .deadLetters,
                    "\(letters) records of \(step.name) went to dead letters: ota-ingest dlq list --source \(source)"))
        }
        let notPulled = (counts["failed_properties"] ?? 0) + (counts["skipped_properties"] ?? 0)
        if notPulled > 0 {
            result.attention.append(
                Attention(
                    .propertiesNotPulled,
                    "\(notPulled) properties not pulled by \(step.name) (\(counts["failed_properties"] ?? 0) failed, \(counts["skipped_properties"] ?? 0) skipped): ota-ingest status"
                ))
        }
        if let settings = config.sources.first(where: { $0.name == source && $0.kind == .opentravel })?.openTravel {
            // After the night's read, anything still waiting keeps failing: the OTA will email it to the hotel.
            let late = try await PostgresConnection.withConnection(databaseURL) {
                try await OpenTravelWaiting.late(olderThan: settings.fallbackWarning, source: source, on: $0)
            }
            if let oldest = late.first {
                result.attention.append(
                    Attention(
                        .openTravelWaiting,
                        "\(late.count) reservations of \(source) still wait for their acknowledgement after the night's read (the oldest \(oldest.minutes) minutes; the OTA emails them to the hotel after \(settings.fallback.components.seconds / 60)): see the pull's log, ota-ingest dlq list --source \(source), ota-ingest status"
                    ))
            }
        }
        return result
    }

    private func transform(_ step: NightlyStep) async throws -> StepResult {
        let summary = try await PostgresConnection.withConnection(databaseURL) { connection in
            let summary = try await TransformRunner().run(connection)
            var result = StepResult(
                step: step, status: summary.exitStatus == .success ? "succeeded" : "failed",
                exitStatus: summary.exitStatus, seconds: 0,
                counts: summary.counts.merging(
                    ["auto_registered": summary.autoRegistered, "checks_failed": summary.failedChecks.count],
                    uniquingKeysWith: { _, new in new }), error: nil)
            if !summary.failedChecks.isEmpty {
                result.error =
                    "data-quality checks failed: \(summary.failedChecks.map(\.name).joined(separator: ", ")); see ops.dq_results where run_id = '\(summary.runID)'"
                result.attention.append(Attention(.failedStep, "transform failed: \(result.error!)"))
            }
            if summary.autoRegistered > 0 {
                result.attention.append(
                    Attention(
                        .autoRegistered,
                        "\(summary.autoRegistered) codes registered automatically: fill them in seeds/*.csv, then ota-ingest seed (select * from dims.rooms where auto_registered)"
                    ))
            }
            if let setAside = try await connection.query(
                """
                select count(*)::bigint, sum(row_count)::bigint, (array_agg(error order by set_aside_at desc))[1]
                from ops.promotion_set_aside where promoted_at is null
                """
            ).first, let rows = try setAside.decode(Int?.self, at: 1), rows > 0 {
                let error = try setAside.decode(String.self, at: 2)
                result.attention.append(
                    Attention(
                        .setAside,
                        "\(rows) staged rows that continuous promotion set aside are not in facts; serve tries them again now (select * from ops.promotion_set_aside where promoted_at is null); the last error: \(error)"
                    ))
            }
            return result
        }
        return summary
    }

    private func reconcile(_ step: NightlyStep, source: String) async throws -> StepResult {
        let runner = ReconcileRunner(
            databaseURL: databaseURL, config: config, sourceName: source, repair: settings.repair, clock: clock,
            logFormat: logFormat, secrets: secrets)
        let outcome = try await runner.run()
        ProgressLine.standardError.write(outcome.summary + "\n")
        var counts = ReconcileRunner.counts(outcome.scopes)
        counts["repaired_keys"] = outcome.scopes.map(\.repairedKeys).reduce(0, +)
        var result = StepResult(
            step: step, status: outcome.status == .failure ? "failed" : "succeeded", exitStatus: outcome.status,
            seconds: 0, counts: counts, error: nil)
        if outcome.status == .failure {
            let problems = outcome.scopes.compactMap { scope in
                scope.problem.map { "\(scope.stream) \(scope.property): \($0)" }
            }
            result.error = problems.isEmpty ? "see the reconcile summary on stderr" : problems.joined(separator: "; ")
            result.attention.append(Attention(.failedStep, "\(step.name) failed: \(result.error!)"))
        }
        for scope in outcome.scopes where scope.unrepairedBreach {
            result.attention.append(
                Attention(
                    .breach,
                    "drift breached, not repaired: \(source) \(scope.stream) \(scope.property) (select * from recon.latest_drift where breached)"
                ))
        }
        return result
    }
}
