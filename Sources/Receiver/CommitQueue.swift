import OTAIngest

/// What a request hands the committers, and what it gets back once committed.
enum Landing: Sendable {
    case booking(ReservationLanding.Event)
    case rate(PushedRate)
    case deadLetter(DeadLetter, source: String)
}

enum Landed: Sendable, Equatable {
    case stored
    case duplicate
    case collision
    /// PostgreSQL refused the record itself (e.g. `\u0000` in jsonb); it went to dead letters.
    case refused(String)
}

/// The requests waiting for a commit. Committers take everything waiting (up to a
/// batch) at once, so concurrent requests share one transaction and one WAL flush:
/// group commit, with each request answered only after the commit that holds it.
actor CommitQueue {
    typealias Waiter = CheckedContinuation<Landed, any Error>

    private var waiting: [(Landing, Waiter)] = []
    private var idleCommitters: [CheckedContinuation<Void, Never>] = []
    private var closed = false

    /// Queues one landing and suspends until its commit (or failure).
    func submit(_ landing: Landing) async throws -> Landed {
        guard !closed else { throw ReceiverUnavailable(reason: "the receiver is shutting down") }
        return try await withCheckedThrowingContinuation { waiter in
            waiting.append((landing, waiter))
            if !idleCommitters.isEmpty { idleCommitters.removeFirst().resume() }
        }
    }

    /// The next batch for a committer; nil once closed and drained.
    func take(max: Int) async -> [(Landing, Waiter)]? {
        while waiting.isEmpty {
            if closed { return nil }
            await withCheckedContinuation { idleCommitters.append($0) }
        }
        let count = min(max, waiting.count)
        let batch = Array(waiting.prefix(count))
        waiting.removeFirst(count)
        return batch
    }

    /// Refuses new work; committers finish what is queued, then stop.
    func close() {
        closed = true
        for committer in idleCommitters { committer.resume() }
        idleCommitters = []
    }

    var depth: Int { waiting.count }
}

/// The database could not take the request; answered 503 so the sender retries.
struct ReceiverUnavailable: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
