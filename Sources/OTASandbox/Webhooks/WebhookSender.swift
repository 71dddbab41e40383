import Foundation

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
        return try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            group.addTask {
                let (data, response) = try await session.data(for: prepared)
                return ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                throw URLError(.timedOut)
            }
            defer { group.cancelAll() }
            return try await group.next()!
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
