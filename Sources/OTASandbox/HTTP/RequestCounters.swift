/// Requests served per endpoint and faults injected per kind, for /_sandbox/stats.
struct RequestCounters: Sendable {
    var requests: [String: Int] = [:]
    var faults: [String: Int] = [:]
    /// Per booking id, each fetch of GET /reservation/{id} in order: the malformation it
    /// served (`malformed_fetch_rate` or the record's own), or nil for a clean body.
    var bookingFetches: [Int: [MalformationKind?]] = [:]
    /// Authenticated reads of /manage/availability and /manage/rates per property code,
    /// so tests can check that the feeds are read no more often than allowed.
    var feedReads: [String: Int] = [:]
}

/// The cursor feed's quota: a token bucket refilled on the wall clock.
struct TokenBucket: Sendable {
    let quota: FeedQuota
    var tokens: Double
    var last: ContinuousClock.Instant

    init(quota: FeedQuota) {
        self.quota = quota
        tokens = Double(quota.capacity)
        last = .now
    }

    /// Takes a token, or says how many seconds until one is there.
    mutating func take() -> Int? {
        let now = ContinuousClock.Instant.now
        let elapsed = last.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        tokens = min(Double(quota.capacity), tokens + seconds * quota.refillPerSecond)
        last = now
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        guard quota.refillPerSecond > 0 else { return 3600 }
        return max(1, Int(((1 - tokens) / quota.refillPerSecond).rounded(.up)))
    }
}
