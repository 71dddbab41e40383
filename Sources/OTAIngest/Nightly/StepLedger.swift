import Foundation
import PostgresClient

/// The night's steps in ops.runs: one row per step, command "nightly: STEP",
/// run id "NIGHT/STEP", linked to the night by night_run_id. A resumed night
/// reads them back to skip what already finished.
struct StepLedger: Sendable {
    let night: Run
    let connection: PostgresConnection
    /// The night's steps in the order they run: each row records its place, so status
    /// lists a resumed night's steps in that order whatever their start times.
    let plan: [NightlyStep]

    func position(of step: NightlyStep) -> Int? {
        plan.firstIndex(of: step).map { $0 + 1 }
    }

    func runID(of step: NightlyStep) -> String {
        night.id + "/" + step.name.replacingOccurrences(of: " ", with: "-")
    }

    func begin(_ step: NightlyStep) async throws {
        try await RunLedger.open(
            runId: runID(of: step), command: "nightly: " + step.name, night: night.id, position: position(of: step),
            on: connection)
    }

    func record(_ result: StepResult) async throws {
        var counts = result.counts
        counts["exit_status"] = Int(result.exitStatus.rawValue)
        counts["step_ms"] = Int(result.seconds * 1000)
        counts["skipped"] = result.status == "skipped" ? 1 : 0
        if result.fromEarlierAttempt { counts["from_earlier_attempt"] = 1 }
        // 'skipped' is not an ops.runs status: a step not due this night succeeded at doing nothing.
        let status = result.status == "skipped" ? .succeeded : RunStatus(rawValue: result.status) ?? .failed
        try await RunLedger.close(
            runId: runID(of: result.step), command: "nightly: " + result.step.name, status: status, counts: counts,
            attention: result.attention.map { ($0.kind.rawValue, $0.text) }, error: result.error, night: night.id,
            position: position(of: result.step), on: connection)
    }

    /// The steps an earlier attempt of this night finished, by step name.
    func earlierResults(plan: [NightlyStep]) async throws -> [String: StepResult] {
        guard night.resumed else { return [:] }
        let rows = try await connection.query(
            """
            select command, status, counts::text, error, attention::text from ops.runs
            where night_run_id = $1 and status <> 'running'
            """, [night.id])
        var results: [String: StepResult] = [:]
        let steps = Dictionary(plan.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for row in rows {
            let command = try row.decode(String.self, at: 0)
            let name = String(command.dropFirst("nightly: ".count))
            guard let step = steps[name] else { continue }
            let counts = Self.counts(try row.decode(String.self, at: 2))
            let status = try row.decode(String.self, at: 1)
            var result = StepResult(
                step: step, status: counts["skipped"] == 1 ? "skipped" : status,
                exitStatus: ExitStatus(rawValue: Int32(counts["exit_status"] ?? 0)) ?? .success,
                seconds: Double(counts["step_ms"] ?? 0) / 1000, counts: counts,
                error: try row.decode(String?.self, at: 3))
            result.fromEarlierAttempt = true
            result.attention = Self.attention(try row.decode(String.self, at: 4))
            results[name] = result
        }
        return results
    }

    /// A pull or reconcile whose own run finished although the step's row
    /// never heard: the process was killed in between. Only a step left
    /// 'running' qualifies, and only a run that began after the step did, so
    /// a run started by a later step (reconcile reads the feeds itself when
    /// none is fresh) or by an earlier, failed attempt is never mistaken for it.
    func innerRunFinished(_ command: String, step: NightlyStep) async throws -> StepResult? {
        let rows = try await connection.query(
            """
            select i.status, i.counts::text from ops.runs s
            join ops.runs i on i.command = $2 and i.started_at >= s.started_at
            where s.run_id = $1 and s.status = 'running' and i.status in ('succeeded', 'dead_letters')
            order by i.started_at limit 1
            """, [runID(of: step), command])
        guard let row = rows.first else { return nil }
        let status = try row.decode(String.self, at: 0)
        let counts = Self.counts(try row.decode(String.self, at: 1))
        var exit: ExitStatus = status == "dead_letters" ? .finishedWithDeadLetters : .success
        if (counts["unrepaired_breaches"] ?? 0) > 0 { exit = .driftBreached }
        return StepResult(step: step, status: status, exitStatus: exit, seconds: 0, counts: counts, error: nil)
    }

    static func counts(_ json: String) -> [String: Int] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return [:]
        }
        return object.compactMapValues { ($0 as? NSNumber)?.intValue }
    }

    /// ops.runs.attention: `[{"kind": N, "text": "..."}]`.
    static func attention(_ json: String) -> [Attention] {
        guard let items = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
            return []
        }
        return items.compactMap { item in
            guard let raw = (item["kind"] as? NSNumber)?.intValue, let kind = Attention.Kind(rawValue: raw),
                let text = item["text"] as? String
            else { return nil }
            return Attention(kind, text)
        }
    }
}
