import Crypto
import Foundation

/// A request ready to send (and to resend unchanged on retries).
struct OutgoingRequest: Sendable {
    var method: String
    var url: String
    var headers: [(String, String)]
    var body: [UInt8]
}

/// Builds PING, PUSH and rate-update requests and signs the latter.
enum WebhookPayloads {
    /// WebHotelier registers an optional username and password per endpoint, whatever its mode.
    private static func basic(_ r: WebhookRegistration) -> [(String, String)] {
        guard let username = r.username else { return [] }
        let token = Data("\(username):\(r.password ?? "")".utf8).base64EncodedString()
        return [("Authorization", "Basic \(token)")]
    }

    static func ping(_ r: WebhookRegistration, property: String) -> OutgoingRequest {
        OutgoingRequest(method: "GET", url: r.url, headers: basic(r) + [("x-wh-property", property)], body: [])
    }

    static func push(_ r: WebhookRegistration, id: Int, type: String, body: JSONValue) -> OutgoingRequest {
        let members: [JSONMember] = ["id" => .int(id), "type" => .string(type), "data" => body]
        var headers = basic(r)
        switch r.format {
        case .json:
            headers.append(("Content-Type", "application/json"))
            return OutgoingRequest(
                method: "POST", url: r.url, headers: headers, body: JSONValue.object(members).serialized)
        case .xml:
            headers.append(("Content-Type", "application/xml"))
            return OutgoingRequest(
                method: "POST", url: r.url, headers: headers, body: XMLRendering.document(root: "notification", members)
            )
        }
    }

    static func rateUpdate(_ r: WebhookRegistration, eventID: String, event: JSONValue, wallClock: Int)
        -> OutgoingRequest
    {
        let body = event.serialized
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        let key = SymmetricKey(data: r.keyBytes)
        switch r.signing {
        case .hmac:
            let mac = HMAC<SHA256>.authenticationCode(for: body, using: key)
            headers.append(("X-OTA-Signature", mac.map { String(format: "%02x", $0) }.joined()))
        case .standard:
            let signed = Array("\(eventID).\(wallClock).".utf8) + body
            let mac = HMAC<SHA256>.authenticationCode(for: signed, using: key)
            headers.append(("webhook-id", eventID))
            headers.append(("webhook-timestamp", String(wallClock)))
            headers.append(("webhook-signature", "v1," + Data(mac).base64EncodedString()))
        }
        return OutgoingRequest(method: "POST", url: r.url, headers: headers, body: body)
    }
}
