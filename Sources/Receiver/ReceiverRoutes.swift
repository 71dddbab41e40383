import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OTAIngest
import PostgresClient
import Synchronization

/// The receiver's endpoints. Every answer is JSON `{"status": ..., "detail": ...}`
/// and every outcome is counted in /metrics.
struct ReceiverRoutes: Sendable {
    let server: ReceiverServer
    let run: Run

    var settings: ReceiverSettings { server.settings }
    var metrics: ReceiverMetrics { server.metrics }

    func router() -> Router<ReceiverContext> {
        let router = Router(context: ReceiverContext.self)
        // First, so every request is logged, those no route matches included.
        router.add(middleware: RequestLogMiddleware(log: server.log))
        router.post("/webhooks/webhotelier") { request, context in
            await self.counted("push") { try await push(request, note: context.note) }
        }
        router.get("/webhooks/webhotelier") { request, context in ping(request, note: context.note) }
        router.post("/webhooks/ota/:source") { request, context in
            await self.counted("rates") {
                try await rateUpdate(request, source: context.parameters.get("source") ?? "", note: context.note)
            }
        }
        router.post("/webhooks/opentravel/:source") { request, context in
            await OpenTravelPush(server: server, runId: run.id).handle(
                request, source: context.parameters.get("source") ?? "", note: context.note)
        }
        router.post("/webhooks/opentravel/:source/ari") { request, context in
            await OpenTravelARIPush(server: server, runId: run.id).handle(
                request, source: context.parameters.get("source") ?? "", note: context.note)
        }
        router.get("/healthz") { _, _ in answer(.ok, "ok") }
        router.get("/readyz") { _, _ in await ready() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.text)))
        }
        // The right path with the wrong method is named as such, not "not found".
        for path in ["/webhooks/webhotelier", "/webhooks/ota/:source"] {
            for method in [HTTPRequest.Method.put, .delete, .patch] {
                router.on(RouterPath(path), method: method) { _, _ in
                    metrics.request("other", "wrong_method")
                    return answer(.methodNotAllowed, "method not allowed; fix: POST a body (GET for a PING)")
                }
            }
        }
        return router
    }

    /// A refusal that carries its HTTP status and the counter it is counted under.
    struct Refused: Error {
        var status: HTTPResponse.Status
        var outcome: String
        var detail: String
    }

    private func counted(_ endpoint: String, _ body: () async throws -> (Response, String)) async -> Response {
        metrics.inFlight.increment()
        defer { metrics.inFlight.decrement() }
        do {
            let (response, outcome) = try await body()
            metrics.request(endpoint, outcome)
            return response
        } catch let refused as Refused {
            metrics.request(endpoint, refused.outcome)
            return answer(refused.status, refused.detail)
        } catch {
            metrics.request(endpoint, "unavailable")
            server.logger.error("\(endpoint): could not store the request: \(error)")
            // Not stored, so not acknowledged: the sender keeps it and retries.
            return answer(.serviceUnavailable, "not stored; retry later")
        }
    }

    // MARK: - WebHotelier PUSH

    private func push(_ request: Request, note: RequestNote) async throws -> (Response, String) {
        do {
            try checkBasic(request)
        } catch {
            // Counted for pipeline health (a wrong password at WebHotelier shows there); the body is never read.
            server.counts.add(
                source: pushSource, stream: "reservations", property: "", "pushes_received", "pushes_refused")
            throw error
        }
        let format: PushDecoding.Format
        switch mediaType(request) {
        case "application/json": format = .json
        case "application/xml", "text/xml": format = .xml
        default:
            throw Refused(
                status: .unsupportedMediaType, outcome: "unsupported_type",
                detail: "Content-Type must be application/json or application/xml")
        }
        let body = try await collect(request, note: note)
        switch PushDecoding.push(body, format: format) {
        case .failure(let refusal):
            if let property = refusal.property {
                note.property = property
                try checkConfigured(property)
            }
            try await deadLetter(
                body, stream: "reservations", key: refusal.key, property: refusal.property, refusal.reason)
            server.counts.add(
                source: pushSource, stream: "reservations", property: refusal.property ?? "", "pushes_received",
                "pushes_refused")
            throw Refused(status: .badRequest, outcome: "invalid", detail: refusal.reason)
        case .success(let booking):
            note.property = booking.version.propertyCode
            try checkConfigured(booking.version.propertyCode)
            let event = ReservationLanding.Event(
                source: settings.webhotelier?.name ?? "webhotelier", version: booking.version,
                eventType: booking.eventType, syncType: nil, origin: "push", raw: body, rawFormat: format.rawValue,
                batchId:
                    "\(run.id)/reservations/\(booking.version.propertyCode)/push:\(booking.version.confirmationId)",
                runId: run.id)
            let landed = try await server.queue.submit(.booking(event))
            if let time = booking.version.otaTime {
                metrics.lag(.seconds(WallClock.systemNow().timeIntervalSince(time)))
            }
            count(landed, stream: "reservations", property: booking.version.propertyCode)
            return try outcome(landed)
        }
    }

    // MARK: - WebHotelier PING

    private func ping(_ request: Request, note: RequestNote) -> Response {
        // Credentials before anything else: a stranger learns nothing, not even which codes exist.
        do {
            try checkBasic(request)
        } catch let refused as Refused {
            metrics.request("ping", refused.outcome)
            return answer(refused.status, refused.detail)
        } catch {
            return answer(.internalServerError, "unexpected")
        }
        guard let property = request.headers[HTTPField.Name("x-wh-property")!], !property.isEmpty else {
            metrics.request("ping", "invalid")
            return answer(.badRequest, "a PING names its property in the x-wh-property header")
        }
        note.property = property
        guard settings.properties.contains(property) else {
            metrics.request("ping", "unknown_property")
            return answer(.notFound, "unknown property; fix: add its credentials to the WebHotelier source")
        }
        // Answered at once (WebHotelier bans slow PING endpoints); the pull runs behind.
        metrics.request("ping", "accepted")
        server.pings.ping(property)
        return answer(.ok, "accepted")
    }

    // MARK: - Signed rate updates

    private func rateUpdate(_ request: Request, source: String, note: RequestNote) async throws -> (Response, String) {
        guard let signing = settings.signing[source] else {
            throw Refused(
                status: .notFound, outcome: "unknown_source", detail: "no [serve.signing.NAME] for this source")
        }
        guard mediaType(request) == "application/json" else {
            throw Refused(
                status: .unsupportedMediaType, outcome: "unsupported_type",
                detail: "Content-Type must be application/json")
        }
        let body = try await collect(request, note: note)
        let headers = request.headers
        var key: String?
        do {
            switch signing.scheme {
            case .hmac:
                try Signatures.verifyHMAC(
                    body: body, header: headers[HTTPField.Name("X-OTA-Signature")!], secrets: signing.keys)
            case .standard:
                key = headers[HTTPField.Name("webhook-id")!]
                try Signatures.verifyStandard(
                    body: body, id: key, timestamp: headers[HTTPField.Name("webhook-timestamp")!],
                    signature: headers[HTTPField.Name("webhook-signature")!], secrets: signing.keys,
                    tolerance: signing.tolerance, now: WallClock.systemNow())
            }
        } catch let failure as Signatures.Failure {
            let outcome: String
            switch failure {
            case .stale: outcome = "stale_timestamp"
            case .missing: outcome = "missing_signature"
            default: outcome = "bad_signature"
            }
            server.counts.add(source: source, stream: "rates", property: "", "pushes_received", "pushes_refused")
            throw Refused(status: .unauthorized, outcome: outcome, detail: "signature refused: \(failure)")
        }
        switch PushDecoding.rateUpdate(body, source: source, idempotencyKey: key) {
        case .failure(let refusal):
            try await deadLetter(body, stream: "rates", key: key, property: nil, refusal.reason)
            server.counts.add(source: source, stream: "rates", property: "", "pushes_received", "pushes_refused")
            throw Refused(status: .badRequest, outcome: "invalid", detail: refusal.reason)
        case .success(let rate):
            note.property = rate.propertyCode
            let landed = try await server.queue.submit(.rate(rate))
            if let time = Timestamps.parse(rate.eventTime) {
                metrics.lag(.seconds(WallClock.systemNow().timeIntervalSince(time)))
            }
            count(landed, source: source, stream: "rates", property: rate.propertyCode)
            return try outcome(landed)
        }
    }

    // MARK: - Health

    private func ready() async -> Response {
        guard let connection = try? await PostgresConnection.connect(server.databaseURL) else {
            return answer(.serviceUnavailable, "database unreachable")
        }
        let pending = try? await server.migrator.pending(connection)
        await connection.close()
        guard let pending else { return answer(.serviceUnavailable, "database unreachable") }
        guard pending.isEmpty else {
            return answer(.serviceUnavailable, "\(pending.count) migrations pending; fix: run ota-ingest migrate")
        }
        return answer(.ok, "ready")
    }

    // MARK: - Parts

    private var pushSource: String { settings.webhotelier?.name ?? "webhotelier" }

    /// A stored request is received; a duplicate also a redelivery (the same id and hash again).
    private func count(_ landed: Landed, source: String? = nil, stream: String, property: String) {
        let source = source ?? pushSource
        switch landed {
        case .stored, .collision:
            server.counts.add(source: source, stream: stream, property: property, "pushes_received")
        case .duplicate:
            server.counts.add(source: source, stream: stream, property: property, "pushes_received", "redeliveries")
        case .refused:
            server.counts.add(source: source, stream: stream, property: property, "pushes_received", "pushes_refused")
        }
    }

    private func outcome(_ landed: Landed) throws -> (Response, String) {
        switch landed {
        case .stored: return (answer(.ok, "stored"), "stored")
        case .duplicate: return (answer(.ok, "duplicate: already stored"), "duplicate")
        case .collision: return (answer(.ok, "collision: kept for audit"), "collision")
        case .refused(let reason): throw Refused(status: .badRequest, outcome: "invalid", detail: reason)
        }
    }

    /// The refused body's raw bytes go to ops.dead_letters before the 400 is sent.
    private func deadLetter(_ body: [UInt8], stream: String, key: String?, property: String?, _ reason: String)
        async throws
    {
        let letter = DeadLetter(
            stream: stream, propertyCode: property ?? "", recordKey: key, raw: body, reason: reason, origin: "push")
        _ = try await server.queue.submit(.deadLetter(letter, source: pushSource))
    }

    private func collect(_ request: Request, note: RequestNote) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: settings.bodyLimit)
            note.bytes = buffer.readableBytes
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw Refused(
                status: .contentTooLarge, outcome: "too_large",
                detail: "body over \(settings.bodyLimit) bytes; fix: raise serve.body_limit_bytes if it is legitimate")
        }
    }

    /// Basic auth, compared in constant time; none configured only with `allow_unauthenticated`.
    private func checkBasic(_ request: Request) throws {
        guard let (username, password) = settings.basic else { return }
        let expected = username + [UInt8(ascii: ":")] + password
        // Byte by byte, not through Foundation's lowercased()/trimmingCharacters: this runs on
        // every push, and those were 4% of the receiver's CPU.
        guard let header = request.headers[.authorization], header.utf8.count > 6,
            header.utf8.prefix(6).map({ $0 | 0x20 }) == Array("basic ".utf8),
            let decoded = Data(base64Encoded: String(Self.trimmed(header.dropFirst(6)))),
            Signatures.constantTimeEqual(Array(decoded), expected)
        else {
            throw Refused(status: .unauthorized, outcome: "unauthorized", detail: "bad or missing Basic credentials")
        }
    }

    /// An authenticated request for a property the WebHotelier source has no credentials for
    /// is not stored: nothing would ever pull, repair or reconcile it.
    private func checkConfigured(_ property: String) throws {
        guard settings.properties.contains(property) else {
            throw Refused(
                status: .notFound, outcome: "unknown_property",
                detail: "unknown property; fix: add its credentials to the WebHotelier source")
        }
    }

    private func mediaType(_ request: Request) -> String {
        let value = request.headers[.contentType] ?? ""
        return value.split(separator: ";").first.map { Self.trimmed($0).lowercased() } ?? ""
    }

    /// Without the spaces and tabs around it.
    static func trimmed(_ text: Substring) -> Substring {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) })
        else { return "" }
        return text[first...last]
    }
}

/// A JSON answer `{"status": code, "detail": text}`: the status code and a one-line detail.
func answer(_ status: HTTPResponse.Status, _ detail: String) -> Response {
    var bytes = AnswerBody.encode(status: status.code, detail: detail)
    bytes.append(0x0A)
    return Response(
        status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// The answer's body. The detail may quote what the sender sent (a currency code, a key),
/// control characters and all, so JSONEncoder writes it as a string; the fields keep their
/// order (`status` first) whatever the encoder's for objects.
enum AnswerBody {
    static func encode(status: Int, detail: String) -> [UInt8] {
        let head = Array(#"{"status":\#(status),"detail":""#.utf8)
        // Printable ASCII without a quote or a backslash is its own JSON string: written as it
        // is, without an encoder per answer (most answers, "stored" among them).
        let utf8 = detail.utf8
        if utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            return head + utf8 + Array(#""}"#.utf8)
        }
        let encoder = JSONEncoder()
        // Details name paths and fixes; `\/` would be valid but harder to read.
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // A String always encodes.
        let text = (try? encoder.encode(detail)).map(Array.init) ?? Array(#""""#.utf8)
        return head.dropLast() + text + [UInt8(ascii: "}")]
    }
}

/// What a handler learns about its request for the request log (the property, the
/// body's size): one per request, shared by the log middleware and the handler.
final class RequestNote: Sendable {
    private let state = Mutex<(property: String?, bytes: Int)>((nil, 0))

    var property: String? {
        get { state.withLock { $0.property } }
        set { state.withLock { $0.property = newValue } }
    }

    var bytes: Int {
        get { state.withLock { $0.bytes } }
        set { state.withLock { $0.bytes = newValue } }
    }
}

/// Hummingbird's basic context plus the request's note.
struct ReceiverContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let note = RequestNote()

    init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// Writes the request log line once the answer is known, whatever answered it.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ReceiverContext
    let log: ReceiverLog

    func handle(
        _ request: Request, context: ReceiverContext,
        next: (Request, ReceiverContext) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        func line(_ status: HTTPResponse.Status) {
            // Unread bodies (refused before reading) count by what the sender declared.
            let declared = request.headers[.contentLength].flatMap { Int($0) } ?? 0
            log.request(
                method: request.method.rawValue, path: request.uri.path, status: status.code,
                duration: ContinuousClock.now - started, bytes: max(context.note.bytes, declared),
                property: context.note.property)
        }
        do {
            let response = try await next(request, context)
            line(response.status)
            return response
        } catch let error as any HTTPResponseError {
            line(error.status)
            throw error
        } catch {
            line(.internalServerError)
            throw error
        }
    }
}
