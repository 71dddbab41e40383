import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Sends one webhook request over plain HTTP/1.1 and reports the status code.
struct WebhookSender: Sendable {
    let session: URLSession

    init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        configuration.httpMaximumConnectionsPerHost = 4
        session = URLSession(configuration: configuration)
    }

    /// Sends and returns the status and the answer's body (OpenTravel judges the body too).
    func exchange(_ request: OutgoingRequest, timeout: Double) async throws -> (Int, [UInt8]) {
        guard let url = URL(string: request.url) else { throw URLError(.badURL) }
        var r = URLRequest(url: url)
        r.httpMethod = request.method
        // FoundationNetworking's own timeout is an inactivity timer in whole seconds that a
        // loaded machine has been seen to miss; the deadline below is the one that counts.
        r.timeoutInterval = max(1, timeout.rounded(.up)) + 5
        for (name, value) in request.headers { r.setValue(value, forHTTPHeaderField: name) }
        if !request.body.isEmpty { r.httpBody = Data(request.body) }
        let session = self.session
        let prepared = r
        // The exchange is raced against the deadline without cancelling it: cancelling a
        // URLSession task from Swift concurrency can deadlock in FoundationNetworking (the
        // cancel waits on the session's queue while that queue resumes the task). A request
        // that loses the race finishes or times out on its own.
        let outcome = Once<Result<(Int, [UInt8]), any Error>>()
        return try await withCheckedThrowingContinuation { continuation in
            outcome.onFirst { continuation.resume(with: $0) }
            Task {
                do {
                    let (data, response) = try await session.data(for: prepared)
                    outcome.offer(.success(((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))))
                } catch {
                    outcome.offer(.failure(error))
                }
            }
            Task {
                try? await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                outcome.offer(.failure(URLError(.timedOut)))
            }
        }
    }

    func send(_ request: OutgoingRequest) async throws -> Int {
        guard let url = URL(string: request.url) else { throw URLError(.badURL) }
        var r = URLRequest(url: url)
        r.httpMethod = request.method
        for (name, value) in request.headers { r.setValue(value, forHTTPHeaderField: name) }
        if !request.body.isEmpty { r.httpBody = Data(request.body) }
        let (_, response) = try await session.data(for: r)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}

/// The first value offered goes to the handler; later ones are dropped.
private final class Once<Value: Sendable>: Sendable {
    private let state = Mutex<(handler: (@Sendable (Value) -> Void)?, done: Bool)>((nil, false))

    func onFirst(_ handler: @escaping @Sendable (Value) -> Void) {
        state.withLock { $0.handler = handler }
    }

    func offer(_ value: Value) {
        let handler = state.withLock { s -> (@Sendable (Value) -> Void)? in
            guard !s.done, let h = s.handler else { return nil }
            s.done = true
            return h
        }
        handler?(value)
    }
}
