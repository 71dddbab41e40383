import Foundation

/// The time the loader believes it is: the one place the system clock is read.
///
/// Two readings. `now()` is the OTA-facing time (stay-date windows, minimum
/// intervals, the rules records are judged by): production uses the system clock,
/// tests and demos against the sandbox pin it (`--now`) to the sandbox's simulated
/// clock. `loadDate()` and `systemNow()` are transaction time, like the server's
/// `loaded_at`: when the warehouse learns something, which no pin moves.
public struct WallClock: Sendable {
    private let pinned: Date?

    public init(pinned: Date? = nil) {
        self.pinned = pinned
    }

    public static let system = WallClock()

    public func now() -> Date { pinned ?? Self.systemNow() }

    /// The real time, pinned or not: for run ids, log lines and metrics.
    public static func systemNow() -> Date { Date() }

    /// Today's load date (UTC, real time), the observation logs' partition key.
    public func loadDate() -> CivilDate { CivilDate(Self.systemNow()) }
}
