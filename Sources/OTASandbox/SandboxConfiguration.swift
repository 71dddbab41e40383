import Foundation

/// Everything that shapes one sandbox: its world (seed, size, start time), its
/// policies (minimum intervals, quota, token) and its faults and webhooks.
public struct SandboxConfiguration: Sendable {
    /// Interface to bind; loopback unless a person asks otherwise.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free one (see `SandboxServer.start()`).
    public var port: Int = 0
    /// Names the world: the same seed gives the same properties, grids and events.
    public var seed: UInt64 = 1
    /// How many properties (one WebHotelier account each).
    public var propertyCount: Int = 5
    /// Bookings made before the start, already synced (found only by search).
    public var initialBookingsPerProperty: Int = 10
    /// Simulated time at start.
    public var startTime: Date = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    /// Minimum simulated minutes between two pending-list calls of one property;
    /// a quicker call is counted as a violation (0 disables the check).
    public var minimumPendingIntervalMinutes: Int = 5
    /// Bearer token of the cursor feed.
    public var bearerToken: String = "sandbox-token"
    /// Token bucket of the cursor feed; nil means unlimited.
    public var feedQuota: FeedQuota?
    /// Transport, data and behaviour faults (all off by default).
    public var faults = FaultSettings()
    /// Webhook endpoints registered at start (more via `POST /_sandbox/webhooks`).
    public var webhooks: [WebhookRegistration] = []
    /// How failed webhook deliveries are retried.
    public var webhookRetry = WebhookRetryPolicy()
    /// OpenTravel accounts, pull policies and the push schedule.
    public var openTravel = OpenTravelSettings()
    /// How often things happen in the simulated world.
    public var activity = ActivityRates()
    /// Added to every price the cursor feed serves: the same cells as WebHotelier's
    /// rate feed, priced apart, as two real sources of one hotel would be.
    public var cursorFeedPriceOffsetCents: Int = 0
    /// Wall-clock mode: one simulated minute every this many real seconds; nil = only
    /// `advance` moves time.
    public var tickSeconds: Double?

    public init() {}
}

/// A token bucket: `capacity` requests at once, refilled at `refillPerSecond` (wall clock).
public struct FeedQuota: Sendable, Equatable {
    public var capacity: Int
    public var refillPerSecond: Double

    public init(capacity: Int, refillPerSecond: Double) {
        self.capacity = capacity
        self.refillPerSecond = refillPerSecond
    }
}

/// Retry schedule of webhook deliveries: attempt n waits initial * 2^(n-1).
public struct WebhookRetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int = 5
    public var initialBackoffMilliseconds: Int = 200

    public init(maxAttempts: Int = 5, initialBackoffMilliseconds: Int = 200) {
        self.maxAttempts = maxAttempts
        self.initialBackoffMilliseconds = initialBackoffMilliseconds
    }
}

/// Probabilities per property per simulated minute.
public struct ActivityRates: Sendable, Equatable {
    public var newBooking: Double = 0.012
    public var modification: Double = 0.006
    public var cancellation: Double = 0.004
    public var restore: Double = 0.0015
    /// A hotelier changes a run of prices of one rate (an event: feed and webhooks see it).
    public var priceChange: Double = 0.02
    /// A hotelier changes allotment or restrictions of a run of nights of one room.
    public var inventoryChange: Double = 0.01
    /// One price moves with no event at all (the feed's updated_at stays put).
    public var priceDrift: Double = 0.005

    public init() {}
}
