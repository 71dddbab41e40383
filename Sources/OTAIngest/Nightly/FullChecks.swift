import Foundation
import PostgresClient

/// The full data-quality checks (`transform --check-all`), once every
/// `fullChecksEveryDays`: the transform checks the keys it touched each run,
/// this step checks everything.
enum FullChecks {
    static func runIfDue(
        _ step: NightlyStep, settings: NightlySettings, runID: String, on connection: PostgresConnection
    ) async throws -> StepResult {
        let recent = try await connection.query(
            """
            select max(started_at) from ops.runs
            where command = 'nightly: checks' and status = 'succeeded' and coalesce((counts->>'skipped')::int, 0) = 0
              and started_at > now() - make_interval(days => $1::int)
            """, [settings.fullChecksEveryDays])
        if try recent[0].decode(Date?.self, at: 0) != nil {
            return StepResult(
                step: step, status: "skipped", exitStatus: .success, seconds: 0, counts: [:], error: nil)
        }
        // The checks read the scope the transform sets up (sql/checks/00_scope.sql), so
        // the full scan is a transform with --check-all: nothing new to promote by now,
        // every key checked, in the promotion's transaction.
        let summary = try await TransformRunner().run(connection, checkAll: true)
        let failed = summary.failedChecks.map(\.name)
        let total = summary.checks.count
        let checksRunID = summary.runID
        var result = StepResult(
            step: step, status: failed.isEmpty ? "succeeded" : "failed",
            exitStatus: failed.isEmpty ? .success : .failure,
            seconds: 0, counts: ["checks": total, "checks_failed": failed.count], error: nil)
        if !failed.isEmpty {
            result.error =
                "checks failed: \(failed.joined(separator: ", ")); see ops.dq_results where run_id = '\(checksRunID)'"
            result.attention.append(Attention(.failedStep, "checks failed: \(result.error!)"))
        }
        return result
    }
}
