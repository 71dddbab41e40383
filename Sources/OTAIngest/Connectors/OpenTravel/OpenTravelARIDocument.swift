import Foundation

/// An OpenTravel availability or rate push (`OTA_HotelAvailNotifRQ`,
/// `OTA_HotelRateAmountNotifRQ`), bare or in a SOAP 1.1 envelope, read and checked
/// whole: a refusal leaves nothing to store.
///
/// Each `AvailStatusMessage` or `RateAmountMessage` becomes a `Part`: its nights (an
/// inclusive date range, optionally only on some weekdays), its room and rate plan
/// (either may be missing) and the fields it sets. Nothing here knows the hotel's rooms;
/// the receiver checks the codes and guest counts against the seeds.
public struct OpenTravelARIDocument: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case avail = "OTA_HotelAvailNotifRQ"
        case rates = "OTA_HotelRateAmountNotifRQ"

        /// The answer's root element.
        public var response: String {
            switch self {
            case .avail: "OTA_HotelAvailNotifRS"
            case .rates: "OTA_HotelRateAmountNotifRS"
            }
        }
    }

    /// One field an availability message sets.
    public struct Setting: Sendable, Equatable {
        /// booking_limit, stop_sell, closed_to_arrival, closed_to_departure, min_stay or max_stay.
        public var field: String
        public var int: Int?
        public var bool: Bool?
        /// For min_stay: through (SetMinLOS) or arrival (SetForwardMinStay).
        public var kind: String?
    }

    public struct Price: Sendable, Equatable {
        public var guests: Int
        /// The amount as written (digits and an optional decimal point).
        public var amount: String
    }

    public struct Part: Sendable, Equatable {
        public var start: String
        public var end: String
        public var room: String?
        public var rate: String?
        /// Monday first; nil for every day.
        public var days: [Bool]?
        public var settings: [Setting] = []
        public var prices: [Price] = []
        public var extraAdult: String?
        public var currency: String?
        public var taxIncluded: Bool?
    }

    public var kind: Kind
    public var soap: Bool
    public var username: String?
    public var password: String?
    public var echoToken: String?
    /// The root's TimeStamp, as written.
    public var timeStamp: String?
    public var hotel: String
    /// The OTA document's bytes as received, without any SOAP envelope (whose header holds a password).
    public var raw: [UInt8]
    public var parts: [Part]

    /// The most nights one part may cover: a little over SiteMinder's 750 days ahead, so
    /// a typo in a year is refused rather than expanded into millions of cells.
    public static let maxNights = 1_100
    /// At most this many guests in one BaseByGuestAmt.
    public static let maxGuests = 20

    public static func read(_ body: [UInt8]) throws -> Self {
        typealias Refusal = OpenTravelDocument.Refusal
        let opened = try OpenTravelDocument.Opened(body)
        let (root, soap, username, password) = (opened.root, opened.soap, opened.username, opened.password)
        guard let kind = Kind(rawValue: String(root.localName)) else {
            throw Refusal(
                "the root element \(root.localName) is not OTA_HotelAvailNotifRQ or OTA_HotelRateAmountNotifRQ", type: 1
            )
        }
        let groups = root.children(kind == .avail ? "AvailStatusMessages" : "RateAmountMessages")
        let hotels = Set(groups.compactMap { $0.attribute("HotelCode") })
        guard !groups.isEmpty, hotels.count == 1, groups.allSatisfy({ $0.attribute("HotelCode") != nil }),
            let hotel = hotels.first, !hotel.isEmpty
        else {
            throw Refusal("the message must name exactly one hotel (HotelCode)", type: 10, code: 321)
        }
        var parts: [Part] = []
        for group in groups {
            for message in group.children(kind == .avail ? "AvailStatusMessage" : "RateAmountMessage") {
                parts.append(kind == .avail ? try availPart(message) : try ratePart(message))
            }
        }
        guard !parts.isEmpty else {
            throw Refusal(
                "the message holds no \(kind == .avail ? "AvailStatusMessage" : "RateAmountMessage")", type: 10,
                code: 321)
        }
        return Self(
            kind: kind, soap: soap, username: username, password: password, echoToken: root.attribute("EchoToken"),
            timeStamp: root.attribute("TimeStamp"), hotel: hotel, raw: Array(body[root.range]), parts: parts)
    }

    // MARK: - parts

    private static func control(_ message: SafeXML.Element, roomAttributes: [String]) throws -> Part {
        typealias Refusal = OpenTravelDocument.Refusal
        guard let c = message.child("StatusApplicationControl") else {
            throw Refusal("a message has no StatusApplicationControl", type: 10, code: 321)
        }
        guard let startText = c.attribute("Start"), let endText = c.attribute("End"), let start = day(startText),
            let end = day(endText)
        else {
            throw Refusal("StatusApplicationControl needs Start and End dates (YYYY-MM-DD)", type: 10, code: 321)
        }
        guard end >= start, end - start < maxNights else {
            throw Refusal(
                "StatusApplicationControl \(startText)..\(endText): End must be on or after Start, at most \(maxNights) nights",
                type: 3)
        }
        let room = roomAttributes.lazy.compactMap { c.attribute($0) }.first.flatMap { $0.isEmpty ? nil : $0 }
        let rate = c.attribute("RatePlanCode").flatMap { $0.isEmpty ? nil : $0 }
        // OpenTravel's weekday names, and the short spellings some senders use.
        let names = [["Mon"], ["Tue"], ["Weds", "Wed"], ["Thur", "Thu"], ["Fri"], ["Sat"], ["Sun"]]
        let flags = try names.map { spellings -> Bool? in
            guard let text = spellings.lazy.compactMap({ c.attribute($0) }).first else { return nil }
            switch text.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: throw Refusal("weekday flag \(spellings[0])=\"\(text)\" must be true or false", type: 3)
            }
        }
        // No flags, or all seven set, is every day; otherwise a day without its flag is left out.
        var days: [Bool]? = flags.map { $0 ?? false }
        if flags.allSatisfy({ $0 == nil }) || days!.allSatisfy({ $0 }) { days = nil }
        return Part(
            start: CivilDate(dayNumber: start).description, end: CivilDate(dayNumber: end).description, room: room,
            rate: rate, days: days)
    }

    private static func availPart(_ message: SafeXML.Element) throws -> Part {
        typealias Refusal = OpenTravelDocument.Refusal
        var part = try control(message, roomAttributes: ["InvTypeCode", "InvCode"])
        if let text = message.attribute("BookingLimit") {
            guard let limit = Int(text), limit >= 0 else {
                throw Refusal("BookingLimit=\"\(text)\" must be a whole number, 0 or more", type: 3)
            }
            part.settings.append(Setting(field: "booking_limit", int: limit))
        }
        let statuses = message.children("RestrictionStatus")
        let stays = message.children("LengthsOfStay").flatMap { $0.children("LengthOfStay") }
        guard statuses.count <= 1, stays.count <= 1 else {
            throw Refusal("one restriction per AvailStatusMessage; send each as its own message", type: 3)
        }
        if let status = statuses.first {
            let field: String
            switch status.attribute("Restriction") ?? "Master" {
            case "Master": field = "stop_sell"
            case "Arrival": field = "closed_to_arrival"
            case "Departure": field = "closed_to_departure"
            case let other: throw Refusal("Restriction=\"\(other)\" must be Master, Arrival or Departure", type: 3)
            }
            guard let word = status.attribute("Status"), ["Open", "Close"].contains(word) else {
                throw Refusal("RestrictionStatus needs Status Open or Close", type: 10, code: 321)
            }
            part.settings.append(Setting(field: field, bool: word == "Close"))
        }
        if let stay = stays.first {
            guard let text = stay.attribute("Time"), let nights = Int(text), nights >= 0, nights <= 999 else {
                throw Refusal("LengthOfStay needs Time, a whole number of nights", type: 10, code: 321)
            }
            switch stay.attribute("MinMaxMessageType") {
            case "SetMinLOS": part.settings.append(Setting(field: "min_stay", int: nights, kind: "through"))
            case "SetForwardMinStay": part.settings.append(Setting(field: "min_stay", int: nights, kind: "arrival"))
            case "SetMaxLOS", "SetForwardMaxStay": part.settings.append(Setting(field: "max_stay", int: nights))
            case let other:
                throw Refusal(
                    "MinMaxMessageType=\"\(other ?? "")\" must be SetMinLOS, SetForwardMinStay or SetMaxLOS", type: 3)
            }
        }
        guard !part.settings.isEmpty else {
            throw Refusal(
                "an AvailStatusMessage sets nothing (no BookingLimit, restriction or stay)", type: 10, code: 321)
        }
        return part
    }

    private static func ratePart(_ message: SafeXML.Element) throws -> Part {
        typealias Refusal = OpenTravelDocument.Refusal
        var part = try control(message, roomAttributes: ["InvTypeCode", "InvCode"])
        let rates = message.children("Rates").flatMap { $0.children("Rate") }
        guard rates.count == 1, let rate = rates.first else {
            throw Refusal("a RateAmountMessage needs exactly one Rate", type: 10, code: 321)
        }
        let amounts = rate.children("BaseByGuestAmts").flatMap { $0.children("BaseByGuestAmt") }
        var currencies = Set<String>()
        var taxes = Set<Bool>()
        for a in amounts {
            guard let text = a.attribute("NumberOfGuests"), let guests = Int(text), (1...maxGuests).contains(guests)
            else {
                throw wrongGuestCount("every BaseByGuestAmt needs NumberOfGuests in 1-\(maxGuests)")
            }
            let after = a.attribute("AmountAfterTax")
            guard let amount = after ?? a.attribute("AmountBeforeTax"), isAmount(amount) else {
                throw Refusal(
                    "BaseByGuestAmt needs AmountAfterTax or AmountBeforeTax, a decimal amount", type: 10, code: 321)
            }
            taxes.insert(after != nil)
            guard let currency = a.attribute("CurrencyCode") ?? rate.attribute("CurrencyCode"), isCurrency(currency)
            else {
                throw Refusal("a price needs a CurrencyCode (ISO 4217) on BaseByGuestAmt or Rate", type: 10, code: 321)
            }
            currencies.insert(currency)
            part.prices.append(Price(guests: guests, amount: amount))
        }
        guard !amounts.isEmpty else { throw wrongGuestCount("a Rate needs at least one BaseByGuestAmt") }
        guard Set(part.prices.map(\.guests)).count == part.prices.count else {
            throw wrongGuestCount("two BaseByGuestAmt for the same NumberOfGuests")
        }
        guard currencies.count == 1, taxes.count == 1 else {
            throw Refusal("the prices of one Rate must share a currency and be all after or all before tax", type: 3)
        }
        part.currency = currencies.first
        part.taxIncluded = taxes.first
        let extras = rate.children("AdditionalGuestAmounts").flatMap { $0.children("AdditionalGuestAmount") }.filter {
            ($0.attribute("AgeQualifyingCode") ?? "10") == "10"
        }
        if let extra = extras.first {
            guard let amount = extra.attribute("Amount") ?? extra.attribute("AmountAfterTax"), isAmount(amount) else {
                throw Refusal("AdditionalGuestAmount needs Amount, a decimal amount", type: 10, code: 321)
            }
            part.extraAdult = amount
        }
        return part
    }

    /// The dialect's refusal for prices that do not fit the room's occupancies.
    public static func wrongGuestCount(_ detail: String) -> OpenTravelDocument.Refusal {
        OpenTravelDocument.Refusal("wrong number of BaseByGuestAmt: \(detail)", type: 3, code: 450)
    }

    private static func isAmount(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) }),
            parts[0].count <= 10, parts.count == 1 || parts[1].count <= 2
        else { return false }
        return parts.allSatisfy { $0.allSatisfy { $0 >= "0" && $0 <= "9" } }
    }

    private static func isCurrency(_ text: String) -> Bool {
        text.utf8.count == 3 && text.utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }

    /// Days since 1970-01-01 of a YYYY-MM-DD date, or nil (years before 1900 too: no sender means them).
    static func day(_ text: String) -> Int? {
        guard let date = CivilDate(text), date.dayNumber >= -25_567 else { return nil }
        return date.dayNumber
    }

    // MARK: - the parsed copy

    /// The parts as JSON (fixed key order): what staging keeps beside the raw XML and what the expansion reads.
    public var dataJSON: String {
        var out = "{\"kind\":\"\(kind == .avail ? "avail" : "rates")\",\"messages\":["
        for (i, p) in parts.enumerated() {
            if i > 0 { out += "," }
            out += "{\"start\":\"\(p.start)\",\"end\":\"\(p.end)\""
            if let room = p.room {
                out += ",\"room\":"
                JSONText.quote(room, to: &out)
            }
            if let rate = p.rate {
                out += ",\"rate\":"
                JSONText.quote(rate, to: &out)
            }
            if let days = p.days {
                out += ",\"days\":[" + days.map { $0 ? "true" : "false" }.joined(separator: ",") + "]"
            }
            if kind == .avail {
                out += ",\"fields\":["
                out += p.settings.map { s in
                    var f = "{\"field\":\"\(s.field)\""
                    if let v = s.int { f += ",\"int\":\(v)" }
                    if let v = s.bool { f += ",\"bool\":\(v)" }
                    if let v = s.kind { f += ",\"kind\":\"\(v)\"" }
                    return f + "}"
                }.joined(separator: ",")
                out += "]"
            } else {
                out += ",\"prices\":["
                out += p.prices.map { "{\"guests\":\($0.guests),\"amount\":\"\($0.amount)\"}" }.joined(separator: ",")
                out += "]"
                if let extra = p.extraAdult { out += ",\"extra_adult\":\"\(extra)\"" }
                out += ",\"currency\":\"\(p.currency ?? "")\",\"tax_included\":\(p.taxIncluded ?? true)"
            }
            out += "}"
        }
        return out + "]}"
    }
}
