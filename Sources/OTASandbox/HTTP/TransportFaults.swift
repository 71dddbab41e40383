/// A transport fault chosen for one response.
enum TransportFault: Sendable {
    case serverError
    case unavailable
    case rateLimited(retryAfter: Int)
    case connectionReset
    case truncatedBody
    case slowBody(chunkDelayMilliseconds: Int)
}

/// Draws transport faults per response from a seeded generator. Bursts and storms
/// are runs of consecutive responses, so a client sees them as they happen in life.
struct TransportFaultDice: Sendable {
    var rng: SeededGenerator
    var burstLeft = 0
    var stormLeft = 0

    /// Faults decided before the handler runs (no body produced) and an added latency.
    mutating func before(_ f: FaultSettings, count: (String) -> Void) -> (fault: TransportFault?, latencyMs: Int) {
        let latency = rng.chance(f.latencyRate) ? f.latencyMilliseconds : 0
        if latency > 0 { count("latency") }
        if burstLeft > 0 {
            burstLeft -= 1
            count("unavailable")
            return (.unavailable, latency)
        }
        if stormLeft > 0 {
            stormLeft -= 1
            count("rate_limited")
            return (.rateLimited(retryAfter: f.retryAfterSeconds), latency)
        }
        if rng.chance(f.serverErrorRate) {
            count("server_error")
            return (.serverError, latency)
        }
        if rng.chance(f.unavailableBurstRate) {
            burstLeft = max(0, f.unavailableBurstLength - 1)
            count("unavailable_burst")
            count("unavailable")
            return (.unavailable, latency)
        }
        if rng.chance(f.rateLimitStormRate) {
            stormLeft = max(0, f.rateLimitStormLength - 1)
            count("rate_limit_storm")
            count("rate_limited")
            return (.rateLimited(retryAfter: f.retryAfterSeconds), latency)
        }
        return (nil, latency)
    }

    /// Faults that spoil a successful body while it is sent.
    mutating func after(_ f: FaultSettings, count: (String) -> Void) -> TransportFault? {
        if rng.chance(f.connectionResetRate) {
            count("connection_reset")
            return .connectionReset
        }
        if rng.chance(f.truncatedBodyRate) {
            count("truncated_body")
            return .truncatedBody
        }
        if rng.chance(f.slowBodyRate) {
            count("slow_body")
            return .slowBody(chunkDelayMilliseconds: f.slowBodyChunkDelayMilliseconds)
        }
        return nil
    }
}
