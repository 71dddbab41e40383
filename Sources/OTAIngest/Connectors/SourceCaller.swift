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
    let stats: RunCounters
    /// Where answers are counted for pipeline health, and the property they count under.
    public var answers: AnswerCounts?
    public var answersProperty = ""

    public init(sourceName: String, session: HTTPSession, bucket: TokenBucket, policy: RetryPolicy, stats: RunCounters)
    {
        self.sourceName = sourceName
        self.session = session
        self.bucket = bucket
        self.policy = policy
        self.stats = stats
    }

    /// A caller with a session of its own for `source`, sharing `bucket` and `stats`
    /// with the other callers of the same run.
    static func make(for source: SourceConfig, bucket: TokenBucket, stats: RunCounters) -> SourceCaller {
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
        var transportAdvice: String?
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
                    // A login page or a proxy's HTML is not the API at all: asking again
                    // only hammers it. A JSON body cut short is worth another try.
                    if let notJSON = NotJSONAnswer(received, url: request.url) {
                        throw SourceError(
                            source: sourceName, what: what, reason: notJSON.description, attempts: attempt,
                            advice: NotJSONAnswer.advice)
                    }
                    outcome = .retry(reason: "response body incomplete or malformed", after: nil)
                } else {
                    outcome = classified
                }
            } catch let error as HTTPClientError {
                answers?.add(property: answersProperty, "transport_errors")
                outcome = RetryPolicy.classify(error)
                transportAdvice = SourceError.advice(for: error)
            }
            switch outcome {
            case .success:
                return response!
            case .fatal(let reason):
                throw SourceError(source: sourceName, what: what, reason: reason, attempts: attempt)
            case .retry(let reason, let after):
                guard attempt < policy.maxAttempts else {
                    throw SourceError(
                        source: sourceName, what: what, reason: reason, attempts: attempt,
                        advice: response == nil ? transportAdvice : nil)
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
    /// The fix, where the failure says more than its reason's words can tell.
    public var advice: String?

    public init(source: String, what: String, reason: String, attempts: Int, advice: String? = nil) {
        self.source = source
        self.what = what
        self.reason = reason
        self.attempts = attempts
        self.advice = advice
    }

    public var exitStatus: ExitStatus { .failure }

    public var description: String {
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        return "source \"\(source)\": \(what): \(reason)\(tries); fix: \(advice ?? fix)"
    }

    /// The fix for a request that got no answer, naming the host and port.
    static func advice(for error: HTTPClientError) -> String? {
        switch error.kind {
        case .connect:
            return
                "check that the server at \(error.endpoint) is up and that the source's base_url names the right host and port; landed batches are kept, rerun when it answers"
        case .dns: return "check the host name in the source's base_url"
        case .timeout:
            return "\(error.endpoint) is slow or unreachable; rerun later or raise request_timeout_seconds"
        default: return nil
        }
    }

    private var fix: String {
        if reason.contains("403") { return "check this property's credentials and that the account is enabled" }
        if reason.contains("404") { return "check the property code and the source's base_url" }
        if reason.contains("INVALID_PARAM") { return "a request parameter was refused; report it with the run id" }
        return "the source is failing or unreachable; rerun later (landed batches are kept and not repeated)"
    }
}

/// A 2xx answer whose body is not the dialect's JSON (an HTML login page, a proxy's
/// error page): named with the URL, the content type and the first bytes, safely quoted.
struct NotJSONAnswer: CustomStringConvertible {
    static let advice =
        "check base_url and the credentials (a login or proxy page answers in place of the API when either is wrong)"
    let url: String
    let contentType: String
    let start: String

    /// Nil when the body looks like JSON cut short (or is empty): worth another try.
    init?(_ response: HTTPClientResponse, url: String) {
        let type = response.headers["Content-Type"]
        guard let first = response.body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return nil }
        let jsonType = type.map { $0.lowercased().contains("json") } ?? true
        if jsonType && (first == UInt8(ascii: "{") || first == UInt8(ascii: "[")) { return nil }
        self.url = HTTPClientError.withoutQuery(url)
        contentType = type ?? "no Content-Type"
        start = Self.quoted(response.body.prefix(80)) + (response.body.count > 80 ? "..." : "")
    }

    var description: String {
        "\(url) answered \(contentType), not JSON: \(start)"
    }

    /// The bytes as a double-quoted string: printable ASCII as is, anything else escaped,
    /// so a terminal or a log collector shows exactly what came back and nothing more.
    static func quoted(_ bytes: some Collection<UInt8>) -> String {
        var text = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): text += "\\\""
            case UInt8(ascii: "\\"): text += "\\\\"
            case 0x0A: text += "\\n"
            case 0x0D: text += "\\r"
            case 0x09: text += "\\t"
            case 0x20...0x7E: text.append(Character(Unicode.Scalar(byte)))
            default: text += String(format: "\\x%02x", byte)
            }
        }
        return text + "\""
    }
}
