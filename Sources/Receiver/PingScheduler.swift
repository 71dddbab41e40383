import Foundation
import Logging
import OTAIngest

/// Runs the pull a WebHotelier PING asks for, in the background, one property at a
/// time, coalescing bursts: PINGs that arrive while a property's pull runs cause
/// exactly one more pull after it, not one each.
actor PingScheduler {
    private enum State {
        case running
        /// Running, and at least one PING came in meanwhile.
        case runningAgain
    }

    private var states: [String: State] = [:]
    private var tasks: [String: Task<Void, Never>] = [:]
    private var stopping = false
    private let pull: @Sendable (String) async -> Void
    private let metrics: ReceiverMetrics

    init(metrics: ReceiverMetrics, pull: @escaping @Sendable (String) async -> Void) {
        self.metrics = metrics
        self.pull = pull
    }

    /// Notes a PING for `property`; returns at once.
    func ping(_ property: String) {
        guard !stopping else { return }
        switch states[property] {
        case .running?, .runningAgain?:
            states[property] = .runningAgain
            metrics.pingsCoalesced.increment()
        case nil:
            states[property] = .running
            tasks[property] = Task { await self.loop(property) }
        }
    }

    private func loop(_ property: String) async {
        while true {
            metrics.pingPullsRun.increment()
            await pull(property)
            if states[property] == .runningAgain && !stopping {
                states[property] = .running
                continue
            }
            states[property] = nil
            tasks[property] = nil
            return
        }
    }

    /// Takes no more PINGs and waits for the pulls that run (each finishes its batch;
    /// a booking it has not reached stays in WebHotelier's queue for the next pull).
    func drain() async {
        stopping = true
        for task in tasks.values { await task.value }
    }

    /// Properties with a pull running, for tests and readiness.
    var busy: [String] { states.keys.sorted() }
}
