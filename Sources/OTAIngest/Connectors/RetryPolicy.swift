import Foundation
import HTTPClient

/// What to do with one response or transport failure, per the dialect's error table.
public enum CallOutcome: Sendable, Equatable {
    case success
    /// Worth another try, after at least `after` when the server said so.
    case retry(reason: String, after: Duration?)
    /// Never retried: bad credentials, not found, invalid request.
    case fatal(reason: String)
}

/// Exponential backoff with full jitter, bounded attempts.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(30)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1): a random
    /// time up to base * 2^(attempt-1), capped; a server's Retry-After is a floor.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration {
        let ceiling = min(maxDelay.seconds, baseDelay.seconds * pow(2, Double(min(attempt - 1, 30))))
        let jittered = Duration.seconds(Double.random(in: 0...ceiling))
        if let retryAfter, retryAfter > jittered { return retryAfter }
        return jittered
    }

    /// Classifies a response. WebHotelier's wrapper carries `error_code`; other
    /// sources rely on the status alone.
    public static func classify(status: Int, errorCode: String?, retryAfter: Duration?) -> CallOutcome {
        if (200..<300).contains(status) && (errorCode == nil || errorCode == "OK") { return .success }
        let label = errorCode.map { "HTTP \(status) \($0)" } ?? "HTTP \(status)"
        switch status {
        case 429:
            return .retry(reason: label, after: retryAfter)
        case 503, 502, 504:
            return .retry(reason: label, after: retryAfter)
        case 500:
            // INTERNAL_ERROR is a server fault; INVALID_PARAM and the rest are our
            // request's fault, and retrying a bad request invites a ban.
            if errorCode == nil || errorCode == "INTERNAL_ERROR" { return .retry(reason: label, after: retryAfter) }
            return .fatal(reason: label)
        default:
            return .fatal(reason: label)
        }
    }

    public static func classify(_ error: HTTPClientError) -> CallOutcome {
        error.isTransient ? .retry(reason: error.summary, after: nil) : .fatal(reason: error.description)
    }

    /// Retry-After as seconds (the HTTP-date form is rare from APIs and treated as absent).
    public static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        guard let text = headers["Retry-After"], let seconds = Double(text.trimmingCharacters(in: .whitespaces)),
            seconds >= 0
        else { return nil }
        return .seconds(min(seconds, 600))
    }
}
