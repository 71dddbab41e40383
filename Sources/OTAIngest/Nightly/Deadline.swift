import Foundation

/// A step ran past its deadline; the night marks it failed and goes on.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public var limit: Duration
    public var description: String {
        "ran past its deadline of \(Int(limit.seconds)) s; fix: find what hung (ops.runs, the OTA's status), or raise --step-deadline-minutes"
    }
}

/// Resumes a continuation exactly once, from whichever side gets there first.
private final class FirstResume<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value, any Error>?

    init(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation = continuation
    }

    @discardableResult
    func resume(with result: Result<Value, any Error>) -> Bool {
        lock.lock()
        let pending = continuation
        continuation = nil
        lock.unlock()
        pending?.resume(with: result)
        return pending != nil
    }
}

/// Runs `operation` with a time limit. A blocked libcurl or libpq call does not
/// notice Swift cancellation at once, so the limit does not wait for the
/// operation to wind down: it is cancelled and left behind, and the caller
/// moves on (a process ending after the night takes it along).
func withDeadline<Value: Sendable>(
    _ limit: Duration, _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let handles = TaskHandles()
    return try await withCheckedThrowingContinuation { continuation in
        let once = FirstResume(continuation)
        let work = Task {
            let result: Result<Value, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            if once.resume(with: result) { handles.cancelTimer() }
        }
        let timer = Task {
            try await Task.sleep(for: limit)
            if once.resume(with: .failure(DeadlineExceeded(limit: limit))) { work.cancel() }
        }
        handles.set(timer: timer)
    }
}

private final class TaskHandles: @unchecked Sendable {
    private let lock = NSLock()
    private var timer: Task<Void, any Error>?
    private var cancelled = false

    func set(timer: Task<Void, any Error>) {
        lock.lock()
        if cancelled { timer.cancel() } else { self.timer = timer }
        lock.unlock()
    }

    func cancelTimer() {
        lock.lock()
        cancelled = true
        timer?.cancel()
        lock.unlock()
    }
}
