import Foundation
import PostgresClient
import WarehouseSQL

/// The full data-quality checks (sql/checks/), once every
/// `fullChecksEveryDays`: the transform checks what it promoted each run,
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
        let checks = try SQLFileSet(directory: WarehouseSQL.checksDirectory).files
        try await connection.transaction { conn in
            _ = try await conn.query("select set_config('ota.run_id', $1, true)", [runID])
            for check in checks {
                do {
                    try await conn.executeScript(check.sql)
                } catch let error as PostgresError {
                    throw TransformError(file: "checks/" + check.name, error: error)
                }
            }
        }
        let failed = try await connection.query(
            "select check_name from ops.dq_results where run_id = $1 and severity = 'error' and failures > 0 order by 1",
            [runID]
        ).map { try $0.decode(String.self, at: 0) }
        let total = try await connection.query("select count(*) from ops.dq_results where run_id = $1", [runID])[0]
            .decode(Int.self, at: 0)
        var result = StepResult(
            step: step, status: failed.isEmpty ? "succeeded" : "failed",
            exitStatus: failed.isEmpty ? .success : .failure,
            seconds: 0, counts: ["checks": total, "checks_failed": failed.count], error: nil)
        if !failed.isEmpty {
            result.error =
                "checks failed: \(failed.joined(separator: ", ")); see ops.dq_results where run_id = '\(runID)'"
            result.attention.append(Attention(.failedStep, "checks failed: \(result.error!)"))
        }
        return result
    }
}
