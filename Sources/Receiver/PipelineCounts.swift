import Foundation
import PostgresClient
import Synchronization

/// What the receiver tells reconciliation's pipeline health (ops.pipeline_counts):
/// pushes received, refused (auth, signature, body) and redelivered, per source,
/// stream and property. Counted in memory and written every few seconds, each write
/// under a period id of its own, so "recorded since the last reconciliation" adds
/// up exactly once.
final class PipelineCounts: Sendable {
    struct Key: Hashable, Sendable {
        var source: String
        var stream: String
        var property: String
        var metric: String
    }

    private let counts = Mutex<[Key: Int]>([:])
    private let periods = Atomic<Int>(0)

    func add(source: String, stream: String, property: String, _ metrics: String...) {
        counts.withLock { counts in
            for metric in metrics {
                counts[Key(source: source, stream: stream, property: property, metric: metric), default: 0] += 1
            }
        }
    }

    /// Writes what was counted since the last write (nothing when nothing was).
    func flush(runId: String, on connection: PostgresConnection) async throws {
        let pending = counts.withLock { counts -> [Key: Int] in
            defer { counts = [:] }
            return counts
        }
        guard !pending.isEmpty else { return }
        let period = "\(runId)#\(periods.add(1, ordering: .relaxed).newValue)"
        do {
            try await connection.transaction { conn in
                for (key, value) in pending {
                    _ = try await conn.execute(
                        """
                        insert into ops.pipeline_counts (run_id, source, stream, property_code, metric, value)
                        values ($1, $2, $3, $4, $5, $6)
                        """, [period, key.source, key.stream, key.property, key.metric, value])
                }
            }
        } catch {
            // Not lost: counted again at the next write.
            counts.withLock { counts in
                for (key, value) in pending { counts[key, default: 0] += value }
            }
            throw error
        }
    }
}
