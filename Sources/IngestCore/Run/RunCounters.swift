import Synchronization

/// Counters a run reports in its summary and in ops.runs.counts; shared by the
/// run's concurrent workers.
public final class RunCounters: Sendable {
    public enum Counter: String, Sendable, CaseIterable {
        case requests, pages, records, landed, duplicates, deadLetters = "dead_letters", retries
        case rateLimited = "rate_limited", collisions, synced, skippedProperties = "skipped_properties"
        case batchesSkipped = "batches_skipped"
        /// Syncs answered "no longer pending": an earlier answer was lost, or the list repeated an id.
        case alreadySynced = "already_synced"
        /// Booking bodies fetched again because a fetch failed validation or PostgreSQL refused it.
        case validationRetries = "validation_retries"
    }

    private let values = Mutex<[Counter: Int]>([:])

    public init() {}

    public func add(_ counter: Counter, _ amount: Int = 1) {
        values.withLock { $0[counter, default: 0] += amount }
    }

    public subscript(_ counter: Counter) -> Int {
        values.withLock { $0[counter, default: 0] }
    }

    /// Every counter, zeros included, keyed by its name in ops.runs.counts.
    public var snapshot: [String: Int] {
        values.withLock { current in
            Dictionary(uniqueKeysWithValues: Counter.allCases.map { ($0.rawValue, current[$0, default: 0]) })
        }
    }
}
