import Logging
import OTAIngest
import ServiceLifecycle
import Synchronization

/// Runs the pull a WebHotelier PING asks for, in the background, one property at a
/// time, coalescing bursts: PINGs that arrive while a property's pull runs cause
/// exactly one more pull after it, not one each.
///
/// A service of serve's group: the pulls run as child tasks of `run()`, so graceful
/// shutdown (SIGTERM) takes no more PINGs and waits for the pulls that run (each
/// finishes its batch; a booking it has not reached stays in WebHotelier's queue for
/// the next pull).
final class PingScheduler: Service, Sendable {
    private enum Phase {
        case running
        /// Running, and at least one PING came in meanwhile.
        case runningAgain
    }

    private struct State {
        var phases: [String: Phase] = [:]
        /// Properties whose pull `run()` has not started yet.
        var due: [String] = []
        var waiter: CheckedContinuation<String?, Never>?
        var stopping = false
    }

    private let state = Mutex(State())
    private let pull: @Sendable (String) async -> Void
    private let metrics: ReceiverMetrics

    init(metrics: ReceiverMetrics, pull: @escaping @Sendable (String) async -> Void) {
        self.metrics = metrics
        self.pull = pull
    }

    /// Notes a PING for `property`; returns at once.
    func ping(_ property: String) {
        let waiter: CheckedContinuation<String?, Never>? = state.withLock { state in
            guard !state.stopping else { return nil }
            if state.phases[property] != nil {
                state.phases[property] = .runningAgain
                metrics.pingsCoalesced.increment()
                return nil
            }
            state.phases[property] = .running
            guard let waiter = state.waiter else {
                state.due.append(property)
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: property)
    }

    func run() async {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withDiscardingTaskGroup { group in
                    while let property = await nextDue() {
                        group.addTask { await self.loop(property) }
                    }
                }
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// The next property to start a pull for; nil once stopping.
    private func nextDue() async -> String? {
        await withCheckedContinuation { continuation in
            let answer = state.withLock { state -> String?? in
                if !state.due.isEmpty { return .some(state.due.removeFirst()) }
                if state.stopping { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    /// Takes no more PINGs; pulls not started yet are dropped (their bookings stay queued at WebHotelier).
    private func stop() {
        let waiter = state.withLock { state in
            state.stopping = true
            for property in state.due { state.phases[property] = nil }
            state.due = []
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    private func loop(_ property: String) async {
        while true {
            metrics.pingPullsRun.increment()
            await pull(property)
            let again = state.withLock { state in
                if state.phases[property] == .runningAgain && !state.stopping {
                    state.phases[property] = .running
                    return true
                }
                state.phases[property] = nil
                return false
            }
            if !again { return }
        }
    }

    /// Properties with a pull running or due, for tests and readiness.
    var busy: [String] { state.withLock { $0.phases.keys.sorted() } }
}
