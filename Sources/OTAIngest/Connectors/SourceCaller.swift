import Foundation
import HTTPClient

/// Sends one source's requests: through its token bucket, with retries and
/// backoff per the dialect, counting what happened.
///
/// Each worker owns its own caller (and so its own HTTP session: a libcurl
/// handle serves one thread); the bucket and the counters are shared.
public struct SourceCaller: Sendable {
    public let sourceName: String
    let session: HTTPSession
    let bucket: TokenBucket
    let policy: RetryPolicy
    let stats: PullStats
    /// Where answers are counted for pipeline health, and the property they count under.
    public var answers: AnswerCounts?
    public var answersProperty = ""

    public init(sourceName: String, session: HTTPSession, bucket: TokenBucket, policy: RetryPolicy, stats: PullStats) {
        self.sourceName = sourceName
        self.session = session
        self.bucket = bucket
        self.policy = policy
        self.stats = stats
    }

    /// A caller with a session of its own for `source`, sharing `bucket` and `stats`
    /// with the other callers of the same run.
    static func make(for source: SourceConfig, bucket: TokenBucket, stats: PullStats) -> SourceCaller {
        SourceCaller(
            sourceName: source.name,
            session: HTTPSession(configuration: HTTPSessionConfiguration(requestTimeout: source.requestTimeout)),
            bucket: bucket,
            policy: RetryPolicy(
                maxAttempts: source.maxAttempts, baseDelay: source.retryBaseDelay, maxDelay: source.retryMaxDelay),
            stats: stats)
    }

    /// Sends `request` until it succeeds, fails for good, or runs out of attempts.
    /// `errorCode` reads the dialect's error code from a body (nil where there is none);
    /// `isComplete` tells a whole body from one cut short, which is retried like a reset;
    /// `isAnswer` names error responses that are a meaningful answer for this call (e.g.
    /// "not pending" to a sync), handed back as they are instead of failing the call.
    public func send(
        _ request: HTTPClientRequest, what: String,
        errorCode: @Sendable (HTTPClientResponse) -> String? = { _ in nil },
        isComplete: @Sendable (HTTPClientResponse) -> Bool = { _ in true },
        isAnswer: @Sendable (HTTPClientResponse) -> Bool = { _ in false }
    ) async throws -> HTTPClientResponse {
        var attempt = 0
        while true {
            attempt += 1
            try await bucket.acquire()
            stats.add(.requests)
            answers?.add(property: answersProperty, "requests")
            let outcome: CallOutcome
            var response: HTTPClientResponse?
            do {
                let received = try await session.send(request)
                response = received
                answers?.add(property: answersProperty, AnswerCounts.metric(forStatus: received.status))
                let retryAfter = RetryPolicy.retryAfter(received.headers)
                let classified = RetryPolicy.classify(
                    status: received.status, errorCode: errorCode(received), retryAfter: retryAfter)
                if received.status == 429 {
                    stats.add(.rateLimited)
                    if let retryAfter { await bucket.pause(for: retryAfter) }
                }
                if classified != .success && isAnswer(received) {
                    outcome = .success
                } else if classified == .success && !isComplete(received) {
                    outcome = .retry(reason: "response body incomplete or malformed", after: nil)
                } else {
                    outcome = classified
                }
            } catch let error as HTTPClientError {
                answers?.add(property: answersProperty, "transport_errors")
                outcome = RetryPolicy.classify(error)
            }
            switch outcome {
            case .success:
                return response!
            case .fatal(let reason):
                throw SourceError(source: sourceName, what: what, reason: reason, attempts: attempt)
            case .retry(let reason, let after):
                guard attempt < policy.maxAttempts else {
                    throw SourceError(source: sourceName, what: what, reason: reason, attempts: attempt)
                }
                stats.add(.retries)
                try await Task.sleep(for: policy.delay(afterAttempt: attempt, retryAfter: after))
            }
        }
    }
}

/// A source that could not be read: a refusal, or retries exhausted. Exit status 1;
/// what was landed before it stays landed.
public struct SourceError: UserFacingError {
    public var source: String
    public var what: String
    public var reason: String
    public var attempts: Int

    public var exitStatus: ExitStatus { .failure }

    public var description: String {
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        return "source \"\(source)\": \(what): \(reason)\(tries); fix: \(fix)"
    }

    private var fix: String {
        if reason.contains("403") { return "check this property's credentials and that the account is enabled" }
        if reason.contains("404") { return "check the property code and the source's base_url" }
        if reason.contains("INVALID_PARAM") { return "a request parameter was refused; report it with the run id" }
        return "the source is failing or unreachable; rerun later (landed batches are kept and not repeated)"
    }
}
