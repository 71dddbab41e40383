import Foundation

/// Spaces out requests to one source: `rate` tokens per second, at most `burst` saved up.
///
/// Shared by every worker of a source, so concurrency never multiplies the rate.
public actor TokenBucket {
    private let rate: Double
    private let capacity: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant
    /// When a server says "slow down" (429 + Retry-After), nobody sends before this.
    private var pausedUntil: ContinuousClock.Instant?

    public init(rate: Double, burst: Int) {
        self.rate = max(rate, 0.001)
        self.capacity = Double(max(burst, 1))
        self.tokens = Double(max(burst, 1))
        self.last = .now
    }

    /// Waits until a request may be sent, then takes a token.
    public func acquire() async throws {
        while true {
            let now = ContinuousClock.now
            if let pausedUntil, pausedUntil > now {
                try await Task.sleep(until: pausedUntil, clock: .continuous)
                continue
            }
            let elapsed = now - last
            last = now
            tokens = min(capacity, tokens + elapsed.seconds * rate)
            if tokens >= 1 {
                tokens -= 1
                return
            }
            try await Task.sleep(for: .seconds((1 - tokens) / rate))
        }
    }

    /// Holds every worker back for `delay` (a Retry-After the server sent).
    public func pause(for delay: Duration) {
        let until = ContinuousClock.now + delay
        if pausedUntil.map({ $0 < until }) ?? true { pausedUntil = until }
        tokens = 0
    }
}
