import Foundation
import Hummingbird
import Logging

/// A small local server that records every request it gets: the tests' webhook
/// endpoint. Paths starting with /flaky answer 500 to their first two requests.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: Data
    }

    private actor Inbox {
        var requests: [Received] = []
        var flakyFailures = 0

        func add(_ r: Received) -> Bool {
            requests.append(r)
            if r.path.hasPrefix("/flaky") && flakyFailures < 2 {
                flakyFailures += 1
                return false
            }
            return true
        }
    }

    private struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let inbox: Inbox

        func respond(to request: Request, context: Context) async throws -> Response {
            let body = try await request.body.collect(upTo: 1 << 22)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let received = Received(
                method: request.method.rawValue, path: request.uri.path, headers: headers,
                body: Data(body.readableBytesView))
            let ok = await inbox.add(received)
            return Response(status: ok ? .ok : .internalServerError)
        }
    }

    private let inbox = Inbox()
    private let task = LockedTask()

    /// Starts listening on a random loopback port and returns it.
    func start() async throws -> Int {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let app = Application(
            responder: Responder(inbox: inbox),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        task.set(Task { try await app.run() })
        var port = 0
        for await p in stream { port = p }
        return port
    }

    func stop() async {
        await task.cancelAndWait()
    }

    var requests: [Received] {
        get async { await inbox.requests }
    }
}

/// Holds the server task so `stop()` can cancel it.
final class LockedTask: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, any Error>?

    func set(_ t: Task<Void, any Error>) {
        lock.withLock { task = t }
    }

    func cancelAndWait() async {
        let t = lock.withLock { task }
        t?.cancel()
        _ = await t?.result
    }
}
