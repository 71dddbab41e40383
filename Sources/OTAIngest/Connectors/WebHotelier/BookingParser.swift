import Foundation

/// Validates a booking body at the boundary; a refusal names the field and the rule.
public enum BookingParser {
    public struct Refusal: Error, Sendable {
        public var reason: String
    }

    public static func parse(
        _ body: [UInt8], data: JSONScanner.Value, expectedId: Int?, expectedProperty: String?
    ) -> Result<BookingVersion, Refusal> {
        let bytes = Array(body[data.range])
        do {
            let version = try body.withUnsafeBufferPointer { buffer in
                try check(
                    JSONScanner(buffer), data, bytes: bytes, expectedId: expectedId, expectedProperty: expectedProperty)
            }
            return .success(version)
        } catch let refusal as Refusal {
            return .failure(refusal)
        } catch {
            return .failure(Refusal(reason: "\(error)"))
        }
    }

    private static func check(
        _ scanner: JSONScanner, _ data: JSONScanner.Value, bytes: [UInt8], expectedId: Int?, expectedProperty: String?
    ) throws -> BookingVersion {
        guard data.kind == .object else { throw Refusal(reason: "the booking body is not a JSON object") }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw Refusal(reason: "the booking body is not valid UTF-8")
        }
        let id = try required("id", in: data, scanner)
        guard id.kind == .number, let confirmation = try? scanner.int(id) else {
            throw Refusal(reason: "id must be an integer")
        }
        if let expectedId, confirmation != expectedId {
            throw Refusal(reason: "id \(confirmation) is not the requested reservation \(expectedId)")
        }
        let propertyValue = try required("property", in: data, scanner)
        guard let property = try? scanner.string(propertyValue), !property.isEmpty else {
            throw Refusal(reason: "property must be a non-empty string")
        }
        if let expectedProperty, property != expectedProperty {
            throw Refusal(reason: "property \(property) is not this account's property \(expectedProperty)")
        }
        let status = try required("status", in: data, scanner)
        guard status.kind == .number, let code = try? scanner.int(status), code == 0 || code == 1 else {
            throw Refusal(reason: "status must be 1 (confirmed) or 0 (cancelled)")
        }
        let roomStay = try required("roomStay", in: data, scanner)
        guard roomStay.kind == .object else { throw Refusal(reason: "roomStay must be an object") }
        let from = try date("from", in: roomStay, scanner, label: "roomStay.from")
        let to = try date("to", in: roomStay, scanner, label: "roomStay.to")
        guard from < to else { throw Refusal(reason: "roomStay.to \(to) is not after roomStay.from \(from)") }
        guard from.dayNumber + 366 >= to.dayNumber else {
            throw Refusal(reason: "roomStay spans more than a year (\(from)..\(to))")
        }
        if let pricing = try scanner.member("pricing", of: data) {
            guard pricing.kind == .object else { throw Refusal(reason: "pricing must be an object") }
            if let currency = try scanner.member("currency", of: pricing) {
                let text = (try? scanner.string(currency)) ?? ""
                guard Currencies.isKnown(text) else {
                    throw Refusal(reason: "pricing.currency \"\(text)\" is not a known ISO 4217 code")
                }
            }
            try amount("price", in: pricing, scanner, label: "pricing.price")
            try amount("taxes", in: pricing, scanner, label: "pricing.taxes")
            try amount("extras", in: pricing, scanner, label: "pricing.extras")
        }
        try wholeNumber("rooms", in: roomStay, scanner, label: "roomStay.rooms")
        try checkRooms(in: data, scanner)
        var otaTime: Date?
        if let changes = try scanner.member("changes", of: data) {
            guard changes.kind == .array else { throw Refusal(reason: "changes must be an array") }
            try scanner.elements(of: changes) { change in
                guard change.kind == .object, let value = try scanner.member("date", of: change),
                    let text = try? scanner.string(value), let when = Timestamps.parse(text)
                else { throw Refusal(reason: "changes[].date must be a valid timestamp") }
                otaTime = max(otaTime ?? when, when)
            }
        }
        if let bookInfo = try scanner.member("bookInfo", of: data), bookInfo.kind == .object,
            let bookDate = try scanner.member("book_date", of: bookInfo)
        {
            guard let text = try? scanner.string(bookDate), let when = Timestamps.parse(text) else {
                throw Refusal(reason: "bookInfo.book_date must be a valid timestamp")
            }
            if otaTime == nil { otaTime = when }
        }
        return BookingVersion(confirmationId: confirmation, propertyCode: property, data: bytes, otaTime: otaTime)
    }

    /// rooms[]: what the transforms read of each booked room and its nightly rates, so a
    /// body they could not promote is refused here, with its field named, and never staged.
    private static func checkRooms(in data: JSONScanner.Value, _ scanner: JSONScanner) throws {
        guard let rooms = try scanner.member("rooms", of: data), rooms.kind != .null else { return }
        guard rooms.kind == .array else { throw Refusal(reason: "rooms must be an array") }
        try scanner.elements(of: rooms) { room in
            guard room.kind == .object else { throw Refusal(reason: "rooms[] must be objects") }
            for key: StaticString in ["roomNo", "adults", "children"] {
                try wholeNumber(key, in: room, scanner, label: "rooms[].\(key)")
            }
            try amount("price", in: room, scanner, label: "rooms[].price")
            try amount("price_with_tax", in: room, scanner, label: "rooms[].price_with_tax")
            guard let rates = try scanner.member("rates", of: room), rates.kind != .null else { return }
            guard rates.kind == .array else { throw Refusal(reason: "rooms[].rates must be an array") }
            try scanner.elements(of: rates) { rate in
                guard rate.kind == .object else { throw Refusal(reason: "rooms[].rates[] must be objects") }
                _ = try date("date", in: rate, scanner, label: "rooms[].rates[].date")
                try amount("price_with_tax", in: rate, scanner, label: "rooms[].rates[].price_with_tax")
            }
        }
    }

    /// An amount, when present: a JSON number, a string holding a decimal number, or null.
    private static func amount(_ key: StaticString, in object: JSONScanner.Value, _ scanner: JSONScanner, label: String)
        throws
    {
        guard let value = try scanner.member(key, of: object) else { return }
        switch value.kind {
        case .number, .null: return
        case .string:
            if let text = try? scanner.string(value), isDecimal(text) { return }
        default: break
        }
        let shown = String(decoding: scanner.bytes[value.range].prefix(40), as: UTF8.self)
        throw Refusal(reason: "\(label) must be a number, not \(shown)")
    }

    /// A whole number, when present (or null).
    private static func wholeNumber(
        _ key: StaticString, in object: JSONScanner.Value, _ scanner: JSONScanner, label: String
    ) throws {
        guard let value = try scanner.member(key, of: object), value.kind != .null else { return }
        guard value.kind == .number, (try? scanner.int(value)) != nil else {
            let shown = String(decoding: scanner.bytes[value.range].prefix(40), as: UTF8.self)
            throw Refusal(reason: "\(label) must be a whole number, not \(shown)")
        }
    }

    /// Digits with an optional sign and decimal point, as PostgreSQL's numeric reads them.
    static func isDecimal(_ text: String) -> Bool {
        var digits = 0
        var points = 0
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "."): points += 1
            case UInt8(ascii: "-"), UInt8(ascii: "+"): if index != 0 { return false }
            default: return false
            }
        }
        return digits > 0 && points <= 1
    }

    private static func required(_ key: StaticString, in object: JSONScanner.Value, _ scanner: JSONScanner) throws
        -> JSONScanner.Value
    {
        guard let value = try scanner.member(key, of: object) else { throw Refusal(reason: "missing key \(key)") }
        return value
    }

    private static func date(_ key: StaticString, in object: JSONScanner.Value, _ scanner: JSONScanner, label: String)
        throws -> CivilDate
    {
        guard let value = try scanner.member(key, of: object) else { throw Refusal(reason: "missing key \(label)") }
        guard let text = try? scanner.string(value), let date = CivilDate(text) else {
            throw Refusal(reason: "\(label) must be a real date (YYYY-MM-DD)")
        }
        return date
    }
}
