import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OTAIngest

/// `POST /webhooks/opentravel/{source}`: a channel manager pushes one reservation
/// (`OTA_HotelResNotifRQ`, `OTA_HotelResModifyNotifRQ` or `OTA_CancelRQ`), bare with
/// Basic credentials or in a SOAP 1.1 envelope with a WS-Security UsernameToken.
///
/// It is answered `<Success/>` with our number only after the reservation's durable
/// commit, and `<Errors>` otherwise, with HTTP 200 either way (senders read the body;
/// SiteMinder wants HTTP errors only for server faults): a refused body is retried by
/// the sender, a stored one forgotten. Repeats and retransmissions land nothing new and
/// are answered `<Success/>` again.
struct OpenTravelPush: Sendable {
    let server: ReceiverServer
    let runId: String

    var settings: ReceiverSettings { server.settings }
    var metrics: ReceiverMetrics { server.metrics }

    func handle(_ request: Request, source: String, note: RequestNote) async -> Response {
        metrics.inFlight.increment()
        defer { metrics.inFlight.decrement() }
        let (response, outcome) = await answer(request, source: source, note: note)
        metrics.request("opentravel", outcome)
        return response
    }

    private func answer(_ request: Request, source: String, note: RequestNote) async -> (Response, String) {
        let endpoint: ReceiverSettings.OpenTravelEndpoint
        let body: [UInt8]
        switch await OpenTravelIntake.read(request, source: source, settings: settings, note: note) {
        case .success(let intake): (endpoint, body) = intake
        case .failure(let refusal):
            if refusal.outcome == "unauthorized" { countRefused(source) }
            return (
                OpenTravelAnswer.errors(
                    kind: .resNotif, soap: false, echoToken: nil, refusal.errors, status: refusal.status),
                refusal.outcome
            )
        }
        let document: OpenTravelDocument
        do {
            document = try OpenTravelDocument.read(body)
        } catch let refusal as OpenTravelDocument.Refusal {
            // Nothing about a body we cannot read is stored, authenticated or not.
            return (
                OpenTravelAnswer.errors(
                    kind: .resNotif, soap: OpenTravelIntake.looksSOAP(body), echoToken: nil,
                    [(refusal.type, refusal.code, refusal.reason)]),
                "invalid"
            )
        } catch {
            return (
                OpenTravelAnswer.errors(kind: .resNotif, soap: false, echoToken: nil, [(12, 450, "\(error)")]),
                "invalid"
            )
        }
        if request.headers[.authorization] == nil,
            !OpenTravelIntake.loginMatches(username: document.username, password: document.password, endpoint)
        {
            countRefused(source)
            return (
                OpenTravelAnswer.errors(
                    kind: document.kind, soap: document.soap, echoToken: document.echoToken, [OpenTravelIntake.badLogin]
                ),
                "unauthorized"
            )
        }
        let reservations = OpenTravelReservation.all(in: document, origin: .push(document.kind), sourceName: source)
        guard !reservations.isEmpty else {
            return (
                OpenTravelAnswer.errors(
                    kind: document.kind, soap: document.soap, echoToken: document.echoToken,
                    [(10, 321, "the message holds no reservation")]),
                "invalid"
            )
        }
        // Hotels this source does not serve are refused before anything is stored.
        for case .success(let reservation) in reservations.map(\.result) {
            note.property = reservation.version.propertyCode
            if !endpoint.hotels.isEmpty, !endpoint.hotels.contains(reservation.version.propertyCode) {
                return (
                    OpenTravelAnswer.errors(
                        kind: document.kind, soap: document.soap, echoToken: document.echoToken,
                        [(6, 392, "hotel \(reservation.version.propertyCode) is not one of this source's properties")]),
                    "unknown_property"
                )
            }
        }
        do {
            var stored: [(sender: String, ours: String)] = []
            var outcome = "duplicate"
            for item in reservations {
                switch item.result {
                case .failure(let refusal):
                    // Authenticated but not a reservation we can read: kept in dead letters, and refused.
                    let letter = DeadLetter(
                        stream: "reservations", propertyCode: "", recordKey: nil, raw: body,
                        reason: "OpenTravel: \(refusal.reason)", origin: "push")
                    _ = try await server.queue.submit(.deadLetter(letter, source: source))
                    server.counts.add(
                        source: source, stream: "reservations", property: "", "pushes_received", "pushes_refused")
                    return (
                        OpenTravelAnswer.errors(
                            kind: document.kind, soap: document.soap, echoToken: document.echoToken,
                            [(refusal.type, refusal.code, refusal.reason)]),
                        "invalid"
                    )
                case .success(let reservation):
                    let version = reservation.version
                    let event = ReservationLanding.Event(
                        source: source, version: version, eventType: reservation.eventType, syncType: nil,
                        origin: "push", raw: body, rawFormat: "xml",
                        batchId: "\(runId)/reservations/\(version.propertyCode)/push:\(version.confirmationId)",
                        runId: runId, detectsCollision: false, takesStoredContent: reservation.cancelOnly)
                    let landed = try await server.queue.submit(.booking(event))
                    switch landed {
                    case .stored, .collision:
                        outcome = "stored"
                        server.counts.add(
                            source: source, stream: "reservations", property: version.propertyCode, "pushes_received")
                    case .duplicate:
                        server.counts.add(
                            source: source, stream: "reservations", property: version.propertyCode,
                            "pushes_received", "redeliveries")
                    case .refused(let reason):
                        return (
                            OpenTravelAnswer.errors(
                                kind: document.kind, soap: document.soap, echoToken: document.echoToken,
                                [(3, 450, reason)]),
                            "invalid"
                        )
                    }
                    if let time = version.otaTime {
                        metrics.lag(.seconds(WallClock.systemNow().timeIntervalSince(time)))
                    }
                    stored.append((version.confirmationId, Self.ourNumber(source, version)))
                }
            }
            return (
                OpenTravelAnswer.success(
                    kind: document.kind, soap: document.soap, echoToken: document.echoToken, ids: stored),
                outcome
            )
        } catch {
            server.logger.error("opentravel: could not store the push: \(error)")
            // Not stored, so not acknowledged: the sender keeps it and retries.
            return (
                OpenTravelAnswer.errors(
                    kind: document.kind, soap: document.soap, echoToken: document.echoToken,
                    [(12, 450, "not stored; retry later")], status: .serviceUnavailable),
                "unavailable"
            )
        }
    }

    private func countRefused(_ source: String) {
        server.counts.add(source: source, stream: "reservations", property: "", "pushes_received", "pushes_refused")
    }

    /// Our number for a reservation: stable, so a repeat is answered with the same one.
    static func ourNumber(_ source: String, _ version: BookingVersion) -> String {
        let digest = SHA256.hash(
            data: Array("\(source)\u{0}\(version.propertyCode)\u{0}\(version.confirmationId)".utf8))
        return "OI" + Signatures.hex(digest.prefix(8), uppercase: true)
    }
}

/// The `...RS` answers: `<Success/>` with the reservations' numbers, or `<Errors>`.
enum OpenTravelAnswer {
    static func responseName(_ kind: OpenTravelDocument.Kind) -> String {
        switch kind {
        case .resNotif: "OTA_HotelResNotifRS"
        case .resModifyNotif: "OTA_HotelResModifyNotifRS"
        case .cancel: "OTA_CancelRS"
        }
    }

    static func success(
        kind: OpenTravelDocument.Kind, soap: Bool, echoToken: String?, ids: [(sender: String, ours: String)]
    ) -> Response {
        var inner = "<Success/>"
        if kind == .cancel {
            for id in ids { inner += #"<UniqueID Type="14" ID="\#(escape(id.sender))"/>"# }
        } else {
            let list =
                kind == .resModifyNotif
                ? ("HotelResModifies", "HotelResModify") : ("HotelReservations", "HotelReservation")
            inner += "<\(list.0)>"
            for id in ids {
                inner +=
                    #"<\#(list.1)><UniqueID Type="14" ID="\#(escape(id.sender))"/><ResGlobalInfo><HotelReservationIDs>"#
                    + #"<HotelReservationID ResID_Type="14" ResID_Value="\#(escape(id.ours))"/>"#
                    + "</HotelReservationIDs></ResGlobalInfo></\(list.1)>"
            }
            inner += "</\(list.0)>"
        }
        return response(kind: kind, soap: soap, echoToken: echoToken, inner: inner, status: .ok)
    }

    static func errors(
        kind: OpenTravelDocument.Kind, soap: Bool, echoToken: String?, _ errors: [(type: Int, code: Int, text: String)],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        response(kind: kind, soap: soap, echoToken: echoToken, inner: errorList(errors), status: status)
    }

    private static func response(
        kind: OpenTravelDocument.Kind, soap: Bool, echoToken: String?, inner: String, status: HTTPResponse.Status
    ) -> Response {
        envelope(name: responseName(kind), soap: soap, echoToken: echoToken, inner: inner, status: status)
    }

    /// `<Errors>` with one `<Error>` each.
    static func errorList(_ errors: [(type: Int, code: Int, text: String)]) -> String {
        var inner = "<Errors>"
        for error in errors {
            inner +=
                #"<Error Type="\#(error.type)" Code="\#(error.code)" Status="NotProcessed">\#(escape(error.text))</Error>"#
        }
        return inner + "</Errors>"
    }

    /// An `...RS` answer named `name`, bare or in a SOAP 1.1 envelope.
    static func envelope(name: String, soap: Bool, echoToken: String?, inner: String, status: HTTPResponse.Status)
        -> Response
    {
        let echo = echoToken.map { #" EchoToken="\#(escape($0))""# } ?? ""
        var xml =
            #"<\#(name) xmlns="\#(OpenTravelDocument.namespace)" Version="1.0" TimeStamp="\#(Timestamps.format(WallClock.systemNow()))"\#(echo)>"#
            + inner + "</\(name)>"
        if soap {
            xml =
                #"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>"#
                + xml + "</soap:Body></soap:Envelope>"
        }
        let bytes = Array(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + xml + "\n").utf8)
        return Response(
            status: status, headers: [.contentType: "text/xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case _ where scalar.value < 0x20 && scalar != "\n" && scalar != "\t": out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
