import PostgresClient
import Synchronization

/// Requests and how they were answered, per property, for pipeline health
/// (`recon.drift_metrics` health.retry_saturation): the run writes them to
/// `ops.pipeline_counts` so reconciliation can compute shares over any period.
///
/// A 429 or a 5xx counts once per attempt, so a request retried three times
/// before it succeeded counts four requests, three saturated answers.
public final class AnswerCounts: Sendable {
    struct Key: Hashable, Sendable {
        var property: String
        var metric: String
    }

    private let values = Mutex<[Key: Int]>([:])

    public init() {}

    func add(property: String, _ metric: String) {
        values.withLock { $0[Key(property: property, metric: metric), default: 0] += 1 }
    }

    /// The metric name in ops.pipeline_counts for an HTTP status.
    static func metric(forStatus status: Int) -> String {
        switch status {
        case 429: return "answers_429"
        case 500...599: return "answers_5xx"
        case 400...499: return "answers_4xx"
        default: return "answers_2xx"
        }
    }

    /// Takes the counts gathered so far and resets them, so writing twice never doubles.
    func drain() -> [Key: Int] {
        values.withLock { current in
            let taken = current
            current = [:]
            return taken
        }
    }

    /// Adds the counts gathered since the last write to ops.pipeline_counts; a
    /// resumed run adds to the same rows.
    public func write(runId: String, source: String, stream: String, on connection: PostgresConnection) async throws {
        let counts = drain()
        guard !counts.isEmpty else { return }
        try await connection.transaction { conn in
            for (key, value) in counts {
                try await conn.execute(
                    """
                    insert into ops.pipeline_counts (run_id, source, stream, property_code, metric, value)
                    values ($1, $2, $3, $4, $5, $6)
                    on conflict (run_id, source, stream, property_code, metric) do update
                       set value = ops.pipeline_counts.value + excluded.value, recorded_at = now()
                    """, [runId, source, stream, key.property, key.metric, value])
            }
        }
    }
}
