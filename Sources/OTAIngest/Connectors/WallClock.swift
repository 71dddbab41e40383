import Foundation

/// The time the loader believes it is. Production uses the system clock; tests
/// and demos against the sandbox pin it (`--now`) so stay-date windows and
/// minimum intervals follow the sandbox's simulated clock.
public struct WallClock: Sendable {
    private let pinned: Date?

    public init(pinned: Date? = nil) {
        self.pinned = pinned
    }

    public static let system = WallClock()

    public func now() -> Date { pinned ?? Date() }
}
