import Foundation

/// An endpoint that hears about one property (or all): WebHotelier PING or PUSH for
/// bookings, or generic signed rate-update pushes.
public struct WebhookRegistration: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// GET with `x-wh-property`, one per booking action.
        case ping
        /// POST of `{id, type, data}` (JSON or XML), Basic auth if a username is set.
        case push
        /// POST of a rate-update event per changed rate-night, signed.
        case rates
        /// OpenTravel reservation pushes (`OTA_HotelResNotifRQ` ...), bare or in SOAP.
        case opentravel
        /// OpenTravel availability, restriction and rate pushes (`OTA_HotelAvailNotifRQ`,
        /// `OTA_HotelRateAmountNotifRQ`), bare or in SOAP; sent when asked (`pushOpenTravelARI`).
        case opentravelARI = "opentravel_ari"
    }

    /// How an OpenTravel push is wrapped.
    public enum Envelope: String, Sendable, CaseIterable {
        /// The OTA document alone, Basic auth.
        case bare
        /// SOAP 1.1 with a WS-Security UsernameToken (PasswordText).
        case soap
    }

    /// Which OpenTravel roots a sender uses.
    public enum MessageStyle: String, Sendable, CaseIterable {
        /// Always `OTA_HotelResNotifRQ`, ResStatus Commit/Modify/Cancel.
        case notif
        /// `OTA_HotelResNotifRQ` for new, `OTA_HotelResModifyNotifRQ` for changes, `OTA_CancelRQ` for cancellations.
        case split
    }

    public enum Format: String, Sendable, CaseIterable {
        case json
        case xml
    }

    public enum Signing: String, Sendable, CaseIterable {
        /// `X-OTA-Signature`: hex of HMAC-SHA256(secret, raw body).
        case hmac
        /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`.
        case standard
    }

    /// Property code, or nil for every property.
    public var property: String?
    public var mode: Mode
    public var url: String
    public var format: Format
    public var username: String?
    public var password: String?
    public var signing: Signing
    /// HMAC key; for Standard Webhooks a "whsec_" prefix marks a base64 key.
    public var secret: String
    /// OpenTravel: bare (Basic) or SOAP (WS-Security).
    public var envelope: Envelope
    /// OpenTravel: the roots used.
    public var messages: MessageStyle

    public init(
        property: String? = nil, mode: Mode, url: String, format: Format = .json, username: String? = nil,
        password: String? = nil, signing: Signing = .hmac, secret: String = "", envelope: Envelope = .bare,
        messages: MessageStyle = .notif
    ) {
        self.envelope = envelope
        self.messages = messages
        self.property = property
        self.mode = mode
        self.url = url
        self.format = format
        self.username = username
        self.password = password
        self.signing = signing
        self.secret = secret
    }

    /// The key bytes HMAC uses.
    var keyBytes: [UInt8] {
        if signing == .standard, secret.hasPrefix("whsec_"), let data = Data(base64Encoded: String(secret.dropFirst(6)))
        {
            return Array(data)
        }
        return Array(secret.utf8)
    }
}

/// One notification and every attempt to deliver it.
public struct WebhookDelivery: Sendable, Equatable {
    public struct Attempt: Sendable, Equatable {
        public var status: Int?
        public var error: String?
        /// The attempt was sent to a dead endpoint (the dead-endpoint fault).
        public var deadEndpoint: Bool
    }

    public enum Outcome: String, Sendable {
        case pending
        case delivered
        case failed
    }

    public var id: Int
    public var registration: Int
    public var mode: WebhookRegistration.Mode
    public var url: String
    public var property: String
    public var bookingID: Int?
    /// PUSH/PING: new, update, cancel, restore; rates: rate_update.
    public var type: String
    /// A second copy sent by the duplicate-PUSH fault.
    public var duplicate: Bool
    public var attempts: [Attempt]
    public var outcome: Outcome
}
