import Foundation

/// A value behind a lock. The sandbox keeps its world in one of these rather than in
/// an actor so the cursor feed's hot path pays for a lock, not for executor hops.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
