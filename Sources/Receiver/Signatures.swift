import Crypto
import Foundation

/// Checks the two signing schemes OTAs use for rate updates. Every comparison is
/// constant-time (swift-crypto's `isValidAuthenticationCode`), and any of the
/// active secrets may have signed (rotation).
enum Signatures {
    enum Failure: Error, Equatable, CustomStringConvertible {
        case missing(String)
        case malformed(String)
        case mismatch
        case stale(seconds: Int)

        var description: String {
            switch self {
            case .missing(let header): return "header \(header) is missing"
            case .malformed(let header): return "header \(header) is malformed"
            case .mismatch: return "no active secret produced this signature"
            case .stale(let seconds):
                // `seconds` is now minus the timestamp: positive for a time in the past.
                return seconds >= 0
                    ? "webhook-timestamp is \(seconds) s in the past, beyond the tolerance"
                    : "webhook-timestamp is \(-seconds) s in the future, beyond the tolerance"
            }
        }
    }

    /// `X-OTA-Signature`: hex HMAC-SHA256 of the raw body.
    static func verifyHMAC(body: [UInt8], header: String?, secrets: [[UInt8]]) throws {
        guard let header else { throw Failure.missing("X-OTA-Signature") }
        guard let mac = hexBytes(header.trimmingCharacters(in: .whitespaces)), mac.count == 32 else {
            throw Failure.malformed("X-OTA-Signature")
        }
        for secret in secrets
        where HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: secret)) {
            return
        }
        throw Failure.mismatch
    }

    /// Standard Webhooks: `webhook-signature` holds one or more `v1,<base64>` of
    /// HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}"; the timestamp must be
    /// within `tolerance` of now, either way, so a captured request cannot be replayed later.
    static func verifyStandard(
        body: [UInt8], id: String?, timestamp: String?, signature: String?, secrets: [[UInt8]], tolerance: Duration,
        now: Date
    ) throws {
        guard let id, !id.isEmpty else { throw Failure.missing("webhook-id") }
        guard let timestamp else { throw Failure.missing("webhook-timestamp") }
        guard let signature else { throw Failure.missing("webhook-signature") }
        guard let seconds = Int(timestamp) else { throw Failure.malformed("webhook-timestamp") }
        let skew = Int(now.timeIntervalSince1970) - seconds
        guard abs(skew) <= Int(tolerance.components.seconds) else { throw Failure.stale(seconds: skew) }
        let signed = Array("\(id).\(timestamp).".utf8) + body
        var sawOne = false
        for part in signature.split(separator: " ") {
            guard part.hasPrefix("v1,"), let mac = Data(base64Encoded: String(part.dropFirst(3))) else { continue }
            sawOne = true
            for secret in secrets
            where HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signed, using: SymmetricKey(data: secret))
            {
                return
            }
        }
        throw sawOne ? Failure.mismatch : Failure.malformed("webhook-signature")
    }

    /// A Standard Webhooks secret is `whsec_` + base64 of the key; anything else is used as its bytes.
    static func keyBytes(_ secret: String) -> [UInt8] {
        if secret.hasPrefix("whsec_"), let data = Data(base64Encoded: String(secret.dropFirst(6))) {
            return Array(data)
        }
        return Array(secret.utf8)
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var k = 0
        while k < chars.count {
            guard let high = hexValue(chars[k]), let low = hexValue(chars[k + 1]) else { return nil }
            out.append(high << 4 | low)
            k += 2
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// Constant-time equality of two byte strings (for Basic credentials).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for k in 0..<max(a.count, b.count) {
            difference |= (k < a.count ? a[k] : 0) ^ (k < b.count ? b[k] : 0)
        }
        return difference == 0
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// Two hex digits a byte. By table, not String(format:) a byte: hashing every signed rate
    /// update's body that way was a fifth of the receiver's CPU.
    static func hex(_ bytes: some Sequence<UInt8>, uppercase: Bool = false) -> String {
        let digits = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
