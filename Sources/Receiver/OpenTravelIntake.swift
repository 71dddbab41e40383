import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OTAIngest

/// What both OpenTravel push endpoints (reservations, and availability and rates) do
/// before they read their own message: find the source's push login, check Basic
/// credentials before the body is read, read the body within its limit. SOAP's
/// UsernameToken is inside the body, so each endpoint checks it with `loginMatches`
/// once its document is read.
enum OpenTravelIntake {
    typealias Error = (type: Int, code: Int, text: String)

    /// Why a push is refused before its document is read; nothing is stored.
    struct Refusal: Swift.Error {
        let errors: [Error]
        let status: HTTPResponse.Status
        /// The metrics' outcome: unknown_source, unauthorized, too_large, invalid.
        let outcome: String
    }

    static let badLogin: Error = (4, 448, "authentication failed: bad or missing login")

    /// The source's push login and the request's body, or the refusal.
    static func read(_ request: Request, source: String, settings: ReceiverSettings, note: RequestNote) async
        -> Result<(endpoint: ReceiverSettings.OpenTravelEndpoint, body: [UInt8]), Refusal>
    {
        guard let endpoint = settings.openTravel[source] else {
            return .failure(
                Refusal(
                    errors: [(6, 392, "no opentravel source \(source) with a push login on this receiver")],
                    status: .notFound, outcome: "unknown_source"))
        }
        let basic = request.headers[.authorization]
        if basic != nil, !basicMatches(basic, endpoint) {
            return .failure(Refusal(errors: [badLogin], status: .ok, outcome: "unauthorized"))
        }
        do {
            let buffer = try await request.body.collect(upTo: settings.openTravelBodyLimit)
            note.bytes = buffer.readableBytes
            return .success((endpoint, Array(buffer.readableBytesView)))
        } catch is NIOTooManyBytesError {
            return .failure(
                Refusal(
                    errors: [(12, 450, "the body is over \(settings.openTravelBodyLimit) bytes")],
                    status: .contentTooLarge, outcome: "too_large"))
        } catch {
            return .failure(Refusal(errors: [(12, 450, "the body could not be read")], status: .ok, outcome: "invalid"))
        }
    }

    /// The SOAP UsernameToken's login against the source's; used when no Basic header came.
    /// Both parts are compared whatever the first gives, so the time says nothing about
    /// which was wrong.
    static func loginMatches(username: String?, password: String?, _ endpoint: ReceiverSettings.OpenTravelEndpoint)
        -> Bool
    {
        let userMatches = Signatures.constantTimeEqual(Array((username ?? "").utf8), endpoint.username)
        let passwordMatches = Signatures.constantTimeEqual(Array((password ?? "").utf8), endpoint.password)
        return username != nil && password != nil && userMatches && passwordMatches
    }

    static func basicMatches(_ header: String?, _ endpoint: ReceiverSettings.OpenTravelEndpoint) -> Bool {
        guard let header, header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces))
        else { return false }
        let expected = endpoint.username + [UInt8(ascii: ":")] + endpoint.password
        return Signatures.constantTimeEqual(Array(decoded), expected)
    }

    /// Whether a body we could not read was meant as SOAP (then the refusal goes in an envelope).
    static func looksSOAP(_ body: [UInt8]) -> Bool {
        let head = String(decoding: body.prefix(512), as: UTF8.self)
        return head.contains("Envelope")
    }
}
