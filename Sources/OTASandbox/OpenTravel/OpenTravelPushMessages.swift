import Foundation

/// What one OpenTravel push carries. Reservations today; availability and rate
/// notifications (ARI) are further cases of the same sender.
enum OpenTravelPushContent: Sendable {
    case reservation(id: Int, version: Int, event: BookingEvent, body: BookingBody)

    var hotel: String {
        switch self {
        case .reservation(_, _, _, let body): return body.property
        }
    }
}

/// A push ready to send: the document once plain and once as a retransmission, and
/// the facts the truth log shows about it.
struct OpenTravelPushMessage: Sendable {
    var root: String
    var resStatus: String?
    var innerResStatus: String?
    var echoToken: String
    var sequence: Int
    var namespace: Bool
    var headers: [(String, String)]
    var body: [UInt8]
    var retransmissionBody: [UInt8]
}

/// Builds OpenTravel push documents: the OTA message, then the bare or SOAP envelope.
enum OpenTravelPushMessages {
    static let soapNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
    static let wsseNamespace = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    static let passwordText =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"

    /// The deterministic EchoToken of a registration's message number `sequence`.
    static func echoToken(seed: UInt64, registration: Int, sequence: Int) -> String {
        let a = StableHash.combine([seed, 74, UInt64(registration), UInt64(sequence)])
        let hex = String(a, radix: 16)
        let padded = String(repeating: "0", count: 16 - hex.count) + hex
        return "\(padded.prefix(8))-\(padded.dropFirst(8).prefix(4))-\(padded.suffix(4))-\(sequence)"
    }

    static func make(
        _ content: OpenTravelPushContent, registration r: WebhookRegistration, echoToken: String, sequence: Int,
        namespace: Bool, clash: Bool
    ) -> OpenTravelPushMessage {
        switch content {
        case .reservation(_, _, let event, let body):
            let (root, status, inner) = roots(event: event, style: r.messages, clash: clash)
            func document(retransmission: Bool) -> [UInt8] {
                var w = XMLWriter()
                w.open(
                    root,
                    [
                        ("xmlns", namespace ? OpenTravelReservationXML.namespace : nil), ("EchoToken", echoToken),
                        ("TimeStamp", CivilCalendar.timestampString(seconds: body.otaTime)), ("Version", "1.0"),
                        ("SequenceNmbr", String(sequence)), ("ResStatus", root == "OTA_CancelRQ" ? nil : status),
                        ("CancelType", root == "OTA_CancelRQ" ? "Commit" : nil),
                        ("RetransmissionIndicator", retransmission ? "true" : nil),
                    ])
                switch root {
                case "OTA_CancelRQ":
                    OpenTravelReservationXML.writeChannel(body, to: &w)
                    w.open("UniqueID", [("Type", "14"), ("ID", String(body.id))], empty: true)
                    w.open("UniqueID", [("Type", "10"), ("ID", body.property)], empty: true)
                case "OTA_HotelResModifyNotifRQ":
                    w.open("HotelResModifies")
                    OpenTravelReservationXML.write(
                        body, element: "HotelResModify", resStatus: inner, shape: .push, to: &w)
                    w.close("HotelResModifies")
                default:
                    w.open("HotelReservations")
                    OpenTravelReservationXML.write(
                        body, element: "HotelReservation", resStatus: inner, shape: .push, to: &w)
                    w.close("HotelReservations")
                }
                w.close(root)
                return wrap(w.bytes, root: root, registration: r)
            }
            return OpenTravelPushMessage(
                root: root, resStatus: root == "OTA_CancelRQ" ? nil : status, innerResStatus: inner,
                echoToken: echoToken, sequence: sequence, namespace: namespace, headers: headers(root: root, r),
                body: document(retransmission: false), retransmissionBody: document(retransmission: true))
        }
    }

    /// Root element, root ResStatus and the reservation's own ResStatus. A clash keeps
    /// the inner status right (the dialect: inner wins).
    private static func roots(event: BookingEvent, style: WebhookRegistration.MessageStyle, clash: Bool) -> (
        String, String, String?
    ) {
        let word: String
        switch event {
        case .created: word = "Commit"
        case .modified, .restored: word = "Modify"
        case .cancelled: word = "Cancel"
        }
        var root = "OTA_HotelResNotifRQ"
        if style == .split {
            if word == "Modify" { root = "OTA_HotelResModifyNotifRQ" }
            if word == "Cancel" { return ("OTA_CancelRQ", word, nil) }
        }
        guard clash else { return (root, word, word) }
        switch word {
        case "Commit": return (root, "Modify", "Reserved")
        case "Modify": return (root, "Commit", "Modify")
        default: return (root, "Commit", "Cancelled")
        }
    }

    static func headers(root: String, _ r: WebhookRegistration) -> [(String, String)] {
        var headers = [("Content-Type", "text/xml; charset=utf-8")]
        switch r.envelope {
        case .bare:
            if let username = r.username {
                let token = Data("\(username):\(r.password ?? "")".utf8).base64EncodedString()
                headers.append(("Authorization", "Basic \(token)"))
            }
        case .soap:
            headers.append(("SOAPAction", "\"\(root)\""))
        }
        return headers
    }

    static func wrap(_ document: [UInt8], root: String, registration r: WebhookRegistration) -> [UInt8] {
        var w = XMLWriter()
        w.raw(XMLWriter.declaration)
        guard r.envelope == .soap else {
            w.bytes.append(contentsOf: document)
            return w.bytes
        }
        w.open("soap:Envelope", [("xmlns:soap", soapNamespace)])
        w.open("soap:Header")
        w.open("wsse:Security", [("xmlns:wsse", wsseNamespace), ("soap:mustUnderstand", "1")])
        w.open("wsse:UsernameToken")
        w.element("wsse:Username", text: r.username ?? "")
        w.open("wsse:Password", [("Type", passwordText)])
        w.text(r.password ?? "")
        w.close("wsse:Password")
        w.close("wsse:UsernameToken")
        w.close("wsse:Security")
        w.close("soap:Header")
        w.open("soap:Body")
        w.bytes.append(contentsOf: document)
        w.close("soap:Body")
        w.close("soap:Envelope")
        return w.bytes
    }

    /// Delivered: HTTP 200 and a `Success` element with no `Error` element.
    static func isDelivered(status: Int?, body: [UInt8]) -> Bool {
        guard status == 200, let tags = XMLTagScanner.startTags(body) else { return false }
        return tags.contains { $0.name == "Success" } && !tags.contains { $0.name == "Error" }
    }
}
