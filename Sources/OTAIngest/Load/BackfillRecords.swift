import Foundation

/// Validates backfill records (one self-contained JSON object each) into
/// staging rows, with the field rules of the pull jobs (InventoryPageParser,
/// BookingParser). Used by `load` and by `dlq replay`.
///
/// Availability: `{property, room, date, allot, stopsell, minstay, maxstay, checkin, checkout[, observed_at]}`.
/// Rates: `{property, rate_id, room, date, adults, children, price, currency, closeout, min_stay[, observed_at]}`.
/// Reservations: a booking body (the `data` element of GET /reservation/{id}) or a PUSH
/// notification `{id, type, data}`. Unknown keys are ignored.
public enum BackfillRecords {
    /// Stay dates a backfill may carry: nothing before 2000, nothing past three years ahead.
    public static func stayWindow(now: Date) -> ClosedRange<CivilDate> {
        CivilDate("2000-01-01")!...CivilDate(now).adding(days: 3 * 366)
    }

    /// The per-run rules: the stay-date window and the latest acceptable observed_at.
    public struct Rules: Sendable {
        public var window: ClosedRange<CivilDate>
        public var now: Date

        public init(now: Date) {
            self.now = now
            window = BackfillRecords.stayWindow(now: now)
        }
    }

    /// The members every observation record may have, collected in one pass.
    private struct Fields {
        var property, room, rateId, date, observedAt: JSONScanner.Value?
        var allot, stopsell, minstay, maxstay, checkin, checkout: JSONScanner.Value?
        var adults, children, price, currency, closeout, minStay: JSONScanner.Value?

        init(_ record: JSONScanner.Value, _ scanner: JSONScanner) throws {
            try scanner.members(of: record) { key, value in
                switch key.count {
                case 4:
                    if scanner.keyEquals(key, "room") {
                        room = value
                    } else if scanner.keyEquals(key, "date") {
                        date = value
                    }
                case 5:
                    if scanner.keyEquals(key, "allot") {
                        allot = value
                    } else if scanner.keyEquals(key, "price") {
                        price = value
                    }
                case 6:
                    if scanner.keyEquals(key, "adults") { adults = value }
                case 7:
                    if scanner.keyEquals(key, "rate_id") {
                        rateId = value
                    } else if scanner.keyEquals(key, "minstay") {
                        minstay = value
                    } else if scanner.keyEquals(key, "maxstay") {
                        maxstay = value
                    } else if scanner.keyEquals(key, "checkin") {
                        checkin = value
                    }
                case 8:
                    if scanner.keyEquals(key, "property") {
                        property = value
                    } else if scanner.keyEquals(key, "stopsell") {
                        stopsell = value
                    } else if scanner.keyEquals(key, "checkout") {
                        checkout = value
                    } else if scanner.keyEquals(key, "children") {
                        children = value
                    } else if scanner.keyEquals(key, "currency") {
                        currency = value
                    } else if scanner.keyEquals(key, "closeout") {
                        closeout = value
                    } else if scanner.keyEquals(key, "min_stay") {
                        minStay = value
                    }
                case 11:
                    if scanner.keyEquals(key, "observed_at") { observedAt = value }
                default:
                    break
                }
            }
        }
    }

    // MARK: - Availability and rates

    public static func availability(
        _ record: Range<Int>, _ scanner: JSONScanner, stamp: LoadStamp, rules: Rules
    ) -> Result<AvailabilityRow, RecordRefusal> {
        var property: String?
        var room: String?
        var date: String?
        do {
            let (value, fields) = try object(record, scanner)
            date = fields.date.flatMap { try? scanner.string($0) }
            property = try code(fields.property, "property", scanner)
            room = try code(fields.room, "room", scanner)
            let night = try stayDate(fields.date, scanner, rules: rules)
            let allot = try InventoryPageParser.int(fields.allot, label: "allot", scanner, required: true, min: 0)!
            let stopSell = try InventoryPageParser.flag(fields.stopsell, label: "stopsell", scanner, default: false)
            let minStay =
                try InventoryPageParser.int(fields.minstay, label: "minstay", scanner, required: false, min: 1) ?? 1
            let maxStay =
                try InventoryPageParser.int(fields.maxstay, label: "maxstay", scanner, required: false, min: 0) ?? 0
            // checkin/checkout say open (1) or closed (0); the columns say closed.
            let arrivalOpen = try InventoryPageParser.flag(fields.checkin, label: "checkin", scanner, default: true)
            let departureOpen = try InventoryPageParser.flag(fields.checkout, label: "checkout", scanner, default: true)
            var rowStamp = stamp
            rowStamp.propertyCode = property!
            if let observed = try observedAt(fields.observedAt, scanner, rules: rules) {
                rowStamp.observedAt = observed
            }
            return .success(
                AvailabilityRow(
                    stamp: rowStamp, roomCode: room!, stayDate: night, allotment: allot, stopSell: stopSell,
                    minStay: minStay, maxStay: maxStay, closedToArrival: !arrivalOpen,
                    closedToDeparture: !departureOpen,
                    raw: value.range))
        } catch {
            return .failure(refusal(error, record, key: key(property, room, date), property: property))
        }
    }

    public static func rate(
        _ record: Range<Int>, _ scanner: JSONScanner, stamp: LoadStamp, rules: Rules
    ) -> Result<RateRow, RecordRefusal> {
        var property: String?
        var rateId: String?
        var date: String?
        do {
            let (value, fields) = try object(record, scanner)
            date = fields.date.flatMap { try? scanner.string($0) }
            property = try code(fields.property, "property", scanner)
            rateId = try identifier(fields.rateId, "rate_id", scanner)
            let room = try code(fields.room, "room", scanner)
            let night = try stayDate(fields.date, scanner, rules: rules)
            let adults = try InventoryPageParser.int(fields.adults, label: "adults", scanner, required: true, min: 1)!
            let children =
                try InventoryPageParser.int(fields.children, label: "children", scanner, required: false, min: 0) ?? 0
            guard let priceValue = fields.price else {
                throw InventoryPageParser.EntryError(reason: "missing key price")
            }
            let price = try InventoryPageParser.decimal(priceValue, scanner, label: "price")
            let currency = try code(fields.currency, "currency", scanner)
            guard Currencies.isKnown(currency) else {
                throw InventoryPageParser.EntryError(reason: "currency \"\(currency)\" is not a known ISO 4217 code")
            }
            let closeout = try InventoryPageParser.flag(fields.closeout, label: "closeout", scanner, default: false)
            let minStay =
                try InventoryPageParser.int(fields.minStay, label: "min_stay", scanner, required: false, min: 1) ?? 1
            var rowStamp = stamp
            rowStamp.propertyCode = property!
            if let observed = try observedAt(fields.observedAt, scanner, rules: rules) {
                rowStamp.observedAt = observed
            }
            return .success(
                RateRow(
                    stamp: rowStamp, stream: "rates", rateId: rateId!, roomCode: room, stayDate: night, adults: adults,
                    children: children, channel: "", price: price, currency: currency, closeout: closeout,
                    minStay: minStay, available: nil, sourceKey: nil, sourceHash: nil, sourceUpdatedAt: nil,
                    raw: value.range))
        } catch {
            return .failure(refusal(error, record, key: key(property, rateId, date), property: property))
        }
    }

    // MARK: - Reservations

    /// A booking version with what landing needs besides.
    public struct Booking: Sendable {
        public var version: BookingVersion
        public var eventType: String
    }

    /// A booking body, or a PUSH notification `{id, type, data}` wrapping one.
    public static func reservation(_ record: Range<Int>, in bytes: [UInt8]) -> Result<Booking, RecordRefusal> {
        var key: String?
        let read: Result<(JSONScanner.Value, Int?, String), RecordRefusal> = bytes.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            do {
                let value = try scanner.value(in: record)
                guard value.kind == .object else {
                    throw InventoryPageParser.EntryError(reason: "the record is not a JSON object")
                }
                guard let data = try scanner.member("data", of: value) else {
                    if let id = try scanner.member("id", of: value) { key = scanner.text(id) }
                    return .success((value, nil, "update"))
                }
                // A PUSH notification: its id must be the booking's, its type one staging knows.
                guard data.kind == .object else {
                    throw InventoryPageParser.EntryError(reason: "data must be an object")
                }
                guard let idValue = try scanner.member("id", of: value), idValue.kind == .number,
                    let id = try? scanner.int(idValue)
                else { throw InventoryPageParser.EntryError(reason: "the notification's id must be an integer") }
                key = String(id)
                let typeValue = try scanner.member("type", of: value)
                let type = typeValue.flatMap { try? scanner.string($0) } ?? ""
                // "transaction" (a payment on the booking) carries the booking as it is now, like an update.
                guard ["new", "update", "cancel", "restore", "transaction"].contains(type) else {
                    throw InventoryPageParser.EntryError(
                        reason: "the notification's type must be new, update, cancel, restore or transaction")
                }
                return .success((data, id, type))
            } catch {
                return .failure(refusal(error, record, key: key, property: nil))
            }
        }
        switch read {
        case .failure(let refusal):
            return .failure(refusal)
        case .success(let (data, expectedId, eventType)):
            switch BookingParser.parse(bytes, data: data, expectedId: expectedId, expectedProperty: nil) {
            case .success(let version):
                return .success(Booking(version: version, eventType: eventType))
            case .failure(let refused):
                return .failure(RecordRefusal(reason: refused.reason, key: key, property: nil))
            }
        }
    }

    // MARK: - Field rules

    private static func object(_ record: Range<Int>, _ scanner: JSONScanner) throws -> (JSONScanner.Value, Fields) {
        let value = try scanner.value(in: record)
        guard value.kind == .object else {
            throw InventoryPageParser.EntryError(reason: "the record is not a JSON object")
        }
        guard isUTF8(scanner.bytes, value.range) else {
            throw InventoryPageParser.EntryError(reason: "the record is not valid UTF-8")
        }
        return (value, try Fields(value, scanner))
    }

    /// A required non-empty string.
    private static func code(_ value: JSONScanner.Value?, _ label: String, _ scanner: JSONScanner) throws -> String {
        guard let value else { throw InventoryPageParser.EntryError(reason: "missing key \(label)") }
        guard value.kind == .string, let text = try? scanner.string(value), !text.isEmpty else {
            throw InventoryPageParser.EntryError(reason: "\(label) must be a non-empty string")
        }
        return text
    }

    /// A required id: a non-empty string, or an integer (WebHotelier's rate ids are numbers).
    private static func identifier(_ value: JSONScanner.Value?, _ label: String, _ scanner: JSONScanner) throws
        -> String
    {
        if let value, value.kind == .number, let number = try? scanner.int(value), number >= 0 { return String(number) }
        return try code(value, label, scanner)
    }

    /// The stay date's own text (already `YYYY-MM-DD`), checked real and within the window.
    private static func stayDate(_ value: JSONScanner.Value?, _ scanner: JSONScanner, rules: Rules) throws -> String {
        guard let value else { throw InventoryPageParser.EntryError(reason: "missing key date") }
        let date = try InventoryPageParser.civilDate(value, scanner, label: "date")
        guard rules.window.contains(date) else {
            throw InventoryPageParser.EntryError(
                reason:
                    "date \(date) is outside the backfill window \(rules.window.lowerBound)..\(rules.window.upperBound)"
            )
        }
        return scanner.text(value).dropFirst().dropLast().description
    }

    /// An optional ISO-8601 observed_at, not in the future; nil when absent.
    private static func observedAt(_ value: JSONScanner.Value?, _ scanner: JSONScanner, rules: Rules) throws -> String?
    {
        guard let value else { return nil }
        guard value.kind == .string, let text = try? scanner.string(value), let when = Timestamps.parse(text) else {
            throw InventoryPageParser.EntryError(reason: "observed_at must be an ISO-8601 timestamp")
        }
        guard when <= rules.now.addingTimeInterval(300) else {
            throw InventoryPageParser.EntryError(reason: "observed_at \(text) is in the future")
        }
        return Timestamps.format(when)
    }

    private static func refusal(_ error: any Error, _ record: Range<Int>, key: String?, property: String?)
        -> RecordRefusal
    {
        switch error {
        case let error as InventoryPageParser.EntryError:
            return RecordRefusal(reason: error.reason, key: key, property: property)
        case let error as JSONScanError:
            // Offsets within the record, not within the part it was read with.
            let offset = max(0, error.offset - record.lowerBound)
            return RecordRefusal(
                reason: "malformed JSON at byte \(offset) of the record: \(error.reason)", key: key, property: property)
        default:
            return RecordRefusal(reason: "\(error)", key: key, property: property)
        }
    }

    /// "property/room-or-rate/date" with what could be read, for dead letters.
    private static func key(_ property: String?, _ code: String?, _ date: String?) -> String? {
        guard property != nil || code != nil else { return nil }
        return [property ?? "?", code ?? "?", date ?? "?"].joined(separator: "/")
    }

    /// Whether `range` is valid UTF-8; ASCII (the usual case) is checked without allocating.
    static func isUTF8(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var i = range.lowerBound
        while i < range.upperBound, bytes[i] < 0x80 { i += 1 }
        if i == range.upperBound { return true }
        return String(validating: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) != nil
    }
}
