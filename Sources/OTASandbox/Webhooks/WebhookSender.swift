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
        // Whole seconds: FoundationNetworking on Linux turns a fraction below one into an
        // immediate timeout.
        r.timeoutInterval = max(1, timeout.rounded(.up))
        for (name, value) in request.headers { r.setValue(value, forHTTPHeaderField: name) }
        if !request.body.isEmpty { r.httpBody = Data(request.body) }
        let (data, response) = try await session.data(for: r)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))
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
