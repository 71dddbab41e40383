import Foundation

/// How the OpenTravel side of the sandbox behaves: its machine accounts (Booking.com
/// style pull with acknowledgement), the pull policies and the push sender's schedule.
public struct OpenTravelSettings: Sendable, Equatable {
    /// Machine accounts; nil means one account, `ota-machine`, connected to every property.
    public var accounts: [OpenTravelAccount]?
    /// Simulated minutes an item may wait unacknowledged before the OTA falls back to
    /// emailing the property (recorded in truth; the item stays queued).
    public var fallbackMinutes: Int = 30
    /// Items per GET at most (the dialect leaves it open; Booking.com-like 50).
    public var batchSize: Int = 50
    /// Wall-clock seconds a client should leave between two GETs of one queue.
    public var pollIntervalSeconds: Double = 20
    /// Wall-clock seconds after an acknowledgement before the next GET of that queue.
    public var pollAfterAckSeconds: Double = 5
    /// Wall-clock lifetime of a token from `POST /hotels/ota/token`.
    public var tokenLifetimeSeconds: Int = 3600
    /// Tries of one push before it is marked failed (the first try included).
    public var pushMaxAttempts: Int = 10
    /// Wall-clock gap between two tries of one push (10 tries in an hour by default).
    public var pushRetryIntervalMilliseconds: Int = 360_000
    /// A push not answered within this many seconds is a failed try (whole seconds, at least 1).
    public var pushTimeoutSeconds: Double = 10

    public init() {}
}

/// A machine account of the pull API: one login for all the hotels connected to it.
public struct OpenTravelAccount: Sendable, Equatable {
    public var username: String
    public var password: String
    /// Property codes connected to this account.
    public var hotels: [String]
    /// Whether Basic auth is still accepted on the queue paths (a token always is).
    public var basicAllowed: Bool

    public init(username: String, password: String, hotels: [String], basicAllowed: Bool = true) {
        self.username = username
        self.password = password
        self.hotels = hotels
        self.basicAllowed = basicAllowed
    }
}
