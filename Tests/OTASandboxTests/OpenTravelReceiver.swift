import Foundation
import Hummingbird
import Logging

/// A local push endpoint for the OpenTravel tests: it records every request and answers
/// what `answer` says for it (status and body), given how many requests with this path
/// and EchoToken it had (1 for a message's first try). Paths starting with /slow hold a
/// message's first try until its retry has arrived, so that try can only end by the
/// sender's timeout (a server too slow for the sender, however loaded the machine).
final class OpenTravelReceiver: Sendable {
    typealias Answer = @Sendable (_ path: String, _ count: Int) -> (status: Int, body: String)

    private actor Inbox {
        var requests: [WebhookReceiver.Received] = []
        var counts: [String: Int] = [:]

        func add(_ r: WebhookReceiver.Received) -> (count: Int, key: String) {
            requests.append(r)
            let text = String(decoding: r.body, as: UTF8.self)
            var key = r.path
            if let start = text.range(of: "EchoToken=\"") {
                key += "#" + text[start.upperBound...].prefix { $0 != "\"" }
            }
            counts[key, default: 0] += 1
            return (counts[key]!, key)
        }

        func count(_ key: String) -> Int { counts[key, default: 0] }
    }

    private struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let inbox: Inbox
        let answer: Answer

        func respond(to request: Request, context: Context) async throws -> Response {
            let body = try await request.body.collect(upTo: 1 << 22)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let (count, key) = await inbox.add(
                .init(
                    method: request.method.rawValue, path: request.uri.path, headers: headers,
                    body: Data(body.readableBytesView)))
            if request.uri.path.hasPrefix("/slow") && count == 1 {
                // Waits on the retry's arrival (a condition, polled); the cap only keeps a
                // sender that never retries from holding the test forever.
                let deadline = ContinuousClock.now + .seconds(60)
                while await inbox.count(key) < 2, ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
            let (status, text) = answer(request.uri.path, count)
            return Response(
                status: .init(code: status), headers: [.contentType: "text/xml; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }

    static let success =
        "<OTA_HotelResNotifRS xmlns=\"http://www.opentravel.org/OTA/2003/05\" Version=\"1.0\"><Success/></OTA_HotelResNotifRS>"
    static let failure =
        "<OTA_HotelResNotifRS xmlns=\"http://www.opentravel.org/OTA/2003/05\" Version=\"1.0\"><Errors>"
        + "<Error Type=\"3\" Code=\"3001\" Status=\"NotProcessed\">try later</Error></Errors></OTA_HotelResNotifRS>"

    private let inbox = Inbox()
    private let task = LockedTask()
    private let answer: Answer

    init(answer: @escaping Answer = { _, _ in (200, OpenTravelReceiver.success) }) {
        self.answer = answer
    }

    func start() async throws -> Int {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "opentravel-receiver")
        logger.logLevel = .critical
        let app = Application(
            responder: Responder(inbox: inbox, answer: answer),
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

    func stop() async { await task.cancelAndWait() }

    var requests: [WebhookReceiver.Received] {
        get async { await inbox.requests }
    }
}
