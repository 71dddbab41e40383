import Foundation
import JSONSyntax
import OTAIngest

/// Reads request bodies into what the committers land, or a refusal with the
/// status it is answered with.
enum PushDecoding {
    struct Refusal: Error {
        var reason: String
        var key: String?
        var property: String?
    }

    enum Format: String {
        case json, xml
    }

    /// A WebHotelier PUSH `{id, type, data}` (JSON, or the same three elements in XML)
    /// as a booking version. XML is typed by the documented booking fields first
    /// (BookingXML), so both formats hash alike; the raw bytes are kept verbatim.
    static func push(_ body: [UInt8], format: Format) -> Result<BackfillRecords.Booking, Refusal> {
        let json: [UInt8]
        switch format {
        case .json:
            json = body
        case .xml:
            do {
                json = BookingXML.json(try SafeXML.parse(body))
            } catch let refusal as SafeXML.Refusal {
                return .failure(Refusal(reason: "XML: \(refusal.reason)"))
            } catch {
                return .failure(Refusal(reason: "XML: \(error)"))
            }
        }
        guard nestingDepth(json) <= maxDepth else {
            return .failure(Refusal(reason: "the body nests deeper than \(maxDepth) levels"))
        }
        let hasData = json.withUnsafeBufferPointer { buffer -> Bool in
            let scanner = JSONScanner(buffer)
            guard let root = try? scanner.value(in: 0..<buffer.count), root.kind == .object else { return false }
            return (try? scanner.member("data", of: root)) != nil
        }
        guard hasData else {
            return .failure(Refusal(reason: "a PUSH is a JSON object {id, type, data}; the body is not one"))
        }
        switch BackfillRecords.reservation(0..<json.count, in: json) {
        case .success(let booking): return .success(booking)
        case .failure(let refusal):
            return .failure(
                Refusal(reason: refusal.reason, key: refusal.key, property: refusal.property ?? namedProperty(json)))
        }
    }

    /// `data.property` of a body refused for another reason, so an invalid push for a
    /// property this receiver does not serve is answered 404, not kept.
    static func namedProperty(_ json: [UInt8]) -> String? {
        json.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            guard let root = try? scanner.value(in: 0..<buffer.count), root.kind == .object,
                let data = try? scanner.member("data", of: root), data.kind == .object,
                let property = try? scanner.member("property", of: data), property.kind == .string
            else { return nil }
            return try? scanner.string(property)
        }
    }

    /// No documented body nests deeper than a handful of levels; deeper is an attack
    /// on the parsers after us (PostgreSQL's jsonb input among them).
    static let maxDepth = 64

    /// The deepest bracket nesting outside strings.
    static func nestingDepth(_ bytes: [UInt8]) -> Int { JSONNesting.depth(of: bytes) }

    /// The seed's rate update: `property_id, rate_plan_code, base_rate, currency,
    /// effective_date, event_timestamp` (+ `event_id`, and `room_code` where the OTA sends it).
    static func rateUpdate(_ body: [UInt8], source: String, idempotencyKey: String?) -> Result<PushedRate, Refusal> {
        guard nestingDepth(body) <= maxDepth else {
            return .failure(Refusal(reason: "the body nests deeper than \(maxDepth) levels"))
        }
        return body.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            do {
                let root = try scanner.value(in: 0..<buffer.count)
                guard root.kind == .object else { throw Refusal(reason: "the body is not a JSON object") }
                func string(_ name: StaticString, required: Bool = true) throws -> String? {
                    guard let value = try scanner.member(name, of: root) else {
                        if required { throw Refusal(reason: "missing key \(name)") }
                        return nil
                    }
                    guard value.kind == .string, let text = try? scanner.string(value), !text.isEmpty,
                        text.utf8.count <= 100
                    else { throw Refusal(reason: "\(name) must be a non-empty string of at most 100 bytes") }
                    return text
                }
                let property = try string("property_id")!
                let rate = try string("rate_plan_code")!
                let room = try string("room_code", required: false) ?? ""
                guard let priceValue = try scanner.member("base_rate", of: root) else {
                    throw Refusal(reason: "missing key base_rate")
                }
                let priceText = scanner.text(priceValue)
                guard priceValue.kind == .number, let price = Double(priceText), price.isFinite, price >= 0,
                    price < 1e9
                else { throw Refusal(reason: "base_rate must be a number between 0 and 1e9") }
                let currency = try string("currency")!
                guard Currencies.isKnown(currency) else {
                    throw Refusal(reason: "currency \"\(currency)\" is not a known ISO 4217 code")
                }
                let dateText = try string("effective_date")!
                guard let date = CivilDate(dateText) else {
                    throw Refusal(reason: "effective_date must be a real date (YYYY-MM-DD)")
                }
                let timeText = try string("event_timestamp")!
                guard let time = Timestamps.parse(timeText) else {
                    throw Refusal(reason: "event_timestamp must be an ISO-8601 time")
                }
                guard let key = try idempotencyKey ?? string("event_id") else {
                    throw Refusal(reason: "missing key event_id")
                }
                return .success(
                    PushedRate(
                        source: source, idempotencyKey: key, bodyHash: Signatures.sha256Hex(body),
                        propertyCode: property, rateId: rate, roomCode: room, stayDate: date.description,
                        price: priceText, currency: currency, eventTime: Timestamps.format(time),
                        raw: String(decoding: body, as: UTF8.self)))
            } catch let refusal as Refusal {
                return .failure(refusal)
            } catch {
                return .failure(Refusal(reason: "\(error)"))
            }
        }
    }
}
