import Foundation

/// One OpenTravel reservation (`HotelReservation` or `HotelResModify`) read by the field
/// map of the dialect into the booking body the warehouse's transforms read: the same
/// `data` shape as a WebHotelier booking (`status`, `roomStay`, `rooms[].rates[]`,
/// `pricing`, `bookInfo`, `clientInfo`), so it fills the same staging and fact columns.
///
/// The body holds only what a reservation's version is: its content (dates, rooms,
/// amounts, status confirmed or cancelled), never how it travelled (root `TimeStamp`,
/// `EchoToken`, Commit or Modify, queue), so the same version pulled and pushed has the
/// same canonical jsonb and the same content hash. Its modification time is the
/// version's OTA time, kept beside the body.
public struct OpenTravelReservation: Sendable {
    public var version: BookingVersion
    /// staging.reservation_events.event_type: new (Commit, the new queue), update (Modify), cancel.
    public var eventType: String
    /// A cancellation that names the reservation but carries none of its content
    /// (`OTA_CancelRQ`, or a Cancel without room stays): landed as the stored content
    /// with its status cancelled and its modification time.
    public var cancelOnly: Bool
    /// The reservation element's bytes within its document.
    public var raw: Range<Int>

    /// How the message's transport says what happened to the reservation.
    public enum Origin: Sendable {
        /// A push: the inner `ResStatus` wins over the root's; Cancel* cancels, Modify modifies.
        case push(OpenTravelDocument.Kind)
        /// The pull's new queue: a new booking (a change before acknowledgement included).
        case newQueue
        /// The pull's modify/cancel queue: `ResStatus` Cancel cancels, anything else modifies.
        case modifyQueue
    }

    /// One reservation element of a message, read or refused, with what names it.
    public struct Item: Sendable {
        public var raw: Range<Int>
        public var id: String?
        public var hotel: String?
        public var result: Result<OpenTravelReservation, OpenTravelDocument.Refusal>
    }

    /// The reservations of `document` (one for a push, many for a pulled queue), each
    /// read alone: a refused one does not refuse its neighbours.
    public static func all(in document: OpenTravelDocument, origin: Origin, sourceName: String) -> [Item] {
        let root = document.root
        let elements: [SafeXML.Element]
        switch document.kind {
        case .resNotif:
            elements = root.child("HotelReservations")?.children("HotelReservation") ?? []
        case .resModifyNotif:
            elements = root.child("HotelResModifies")?.children("HotelResModify") ?? []
        case .cancel:
            elements = [root]
        }
        return elements.map { element in
            Item(
                raw: element.range, id: confirmationId(element), hotel: hotelCode(element),
                result: read(element, root: root, kind: document.kind, origin: origin, sourceName: sourceName))
        }
    }

    /// Reads one reservation element; `root` gives the message-level `ResStatus`, `POS` and `TimeStamp`.
    static func read(
        _ element: SafeXML.Element, root: SafeXML.Element, kind: OpenTravelDocument.Kind, origin: Origin,
        sourceName: String
    ) -> Result<OpenTravelReservation, OpenTravelDocument.Refusal> {
        do {
            return .success(try Reader(element: element, root: root, kind: kind, origin: origin).read(sourceName))
        } catch let refusal as OpenTravelDocument.Refusal {
            return .failure(refusal)
        } catch {
            return .failure(OpenTravelDocument.Refusal("\(error)"))
        }
    }

    static func confirmationId(_ element: SafeXML.Element) -> String? {
        if let unique = element.children("UniqueID").first(where: { $0.attribute("Type") == "14" }),
            let id = unique.attribute("ID"), !id.isEmpty
        {
            return id
        }
        let ids = element.child("ResGlobalInfo")?.child("HotelReservationIDs")?.children("HotelReservationID") ?? []
        let preferred = ids.first { $0.attribute("ResID_Type") == "14" } ?? ids.first
        return preferred?.attribute("ResID_Value").flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `BasicPropertyInfo/@HotelCode` anywhere in the reservation; an `OTA_CancelRQ` may name
    /// the hotel as `UniqueID Type="10"` instead.
    static func hotelCode(_ element: SafeXML.Element) -> String? {
        if let code = firstDescendant(element, "BasicPropertyInfo")?.attribute("HotelCode"), !code.isEmpty {
            return code
        }
        return element.children("UniqueID").first(where: { $0.attribute("Type") == "10" })?.attribute("ID")
            .flatMap { $0.isEmpty ? nil : $0 }
    }

    static func firstDescendant(_ element: SafeXML.Element, _ name: String) -> SafeXML.Element? {
        for child in element.children {
            if child.localName == name { return child }
            if let found = firstDescendant(child, name) { return found }
        }
        return nil
    }
}

/// The field map, one reservation at a time.
private struct Reader {
    typealias Refusal = OpenTravelDocument.Refusal
    let element: SafeXML.Element
    let root: SafeXML.Element
    let kind: OpenTravelDocument.Kind
    let origin: OpenTravelReservation.Origin

    /// One booked room: its stay and its nights' amounts.
    struct Room {
        var arrival: CivilDate
        var departure: CivilDate
        var roomType: String?
        var ratePlan: String?
        var adults: Int?
        var children: Int?
        var net: Decimal?
        var gross: Decimal?
        var nights: [(CivilDate, Decimal)]
    }

    func read(_ sourceName: String) throws -> OpenTravelReservation {
        guard let id = OpenTravelReservation.confirmationId(element) else {
            throw Refusal(
                "the reservation has no UniqueID Type=\"14\" ID (nor a HotelReservationID ResID_Value)", type: 10,
                code: 321)
        }
        guard id.utf8.count <= 100 else { throw Refusal("the reservation id is longer than 100 bytes", type: 3) }
        guard let hotel = OpenTravelReservation.hotelCode(element) else {
            throw Refusal("reservation \(id) names no BasicPropertyInfo HotelCode", type: 10, code: 321)
        }
        guard hotel.utf8.count <= 100 else { throw Refusal("HotelCode is longer than 100 bytes", type: 3) }
        let (eventType, cancelled) = try status()
        let otaTime = try modifiedTime() ?? createdTime()
        // The version's own time is part of its content: a restore back to an earlier
        // content is a new version, not a repeat of the old one. Only the reservation's
        // time counts (a pulled queue's root TimeStamp is the time of the read); a cancel
        // request has only its root's.
        let stamp =
            kind == .cancel
            ? root.attribute("TimeStamp") : element.attribute("LastModifyDateTime")
        let modified: [(String, JSONText)] =
            try stamp.map {
                [("modified", .string(Timestamps.format(try time($0, "LastModifyDateTime"))))]
            } ?? []
        let stays = element.child("RoomStays")?.children("RoomStay") ?? []
        if stays.isEmpty {
            guard cancelled else { throw Refusal("reservation \(id) has no RoomStay", type: 10, code: 321) }
            // A cancellation by id alone: the content is the stored version's (ReservationLanding).
            let data = JSONText.object(
                [("id", .string(id)), ("property", .string(hotel)), ("status", .number("0"))] + modified)
            return OpenTravelReservation(
                version: BookingVersion(
                    confirmationId: id, propertyCode: hotel, data: Array(data.text.utf8), otaTime: otaTime),
                eventType: eventType, cancelOnly: true, raw: element.range)
        }
        var currency: String?
        var rooms: [Room] = []
        for stay in stays { rooms.append(try room(stay, currency: &currency)) }
        let arrival = rooms.map(\.arrival).min()!
        let departure = rooms.map(\.departure).max()!
        guard arrival.dayNumber + 366 >= departure.dayNumber else {
            throw Refusal("reservation \(id) spans more than a year (\(arrival)..\(departure))", type: 3)
        }
        var total: Decimal?
        if rooms.contains(where: { $0.gross != nil }) {
            total = rooms.reduce(Decimal(0)) { $0 + ($1.gross ?? 0) }
        } else if let global = element.child("ResGlobalInfo")?.child("Total") {
            total = try amount(global, currency: &currency)
        }
        if let code = currency, !Currencies.isKnown(code) {
            throw Refusal("CurrencyCode \"\(code)\" is not a known ISO 4217 code", type: 3, code: 61)
        }
        if rooms.count == 1, rooms[0].adults == nil, let counts = element.child("ResGlobalInfo")?.child("GuestCounts") {
            (rooms[0].adults, rooms[0].children) = try guestCounts(counts)
        }

        var members: [(String, JSONText)] = [
            ("id", .string(id)), ("property", .string(hotel)), ("status", .number(cancelled ? "0" : "1")),
        ]
        members += modified
        members += [
            (
                "roomStay",
                .object([
                    ("from", .string(arrival.description)), ("to", .string(departure.description)),
                    ("roomType", rooms[0].roomType.map(JSONText.string) ?? .null),
                    ("rateID", rooms[0].ratePlan.map(JSONText.string) ?? .null),
                    ("rooms", .number(String(rooms.count))),
                ])
            )
        ]
        var bookInfo: [(String, JSONText)] = [("source", .string(channel() ?? sourceName))]
        if let created = try createdTime() {
            bookInfo.insert(("book_date", .string(Timestamps.format(created))), at: 0)
        }
        members.append(("bookInfo", .object(bookInfo)))
        members.append(
            (
                "pricing",
                .object([
                    ("price", total.map { .number(Self.text($0)) } ?? .null),
                    ("currency", currency.map(JSONText.string) ?? .null),
                ])
            ))
        members.append(
            (
                "rooms",
                .array(
                    rooms.enumerated().map { index, room in
                        .object([
                            ("roomNo", .number(String(index + 1))),
                            ("roomType", room.roomType.map(JSONText.string) ?? .null),
                            ("rateID", room.ratePlan.map(JSONText.string) ?? .null),
                            ("from", .string(room.arrival.description)), ("to", .string(room.departure.description)),
                            ("adults", room.adults.map { .number(String($0)) } ?? .null),
                            ("children", .number(String(room.children ?? 0))),
                            ("price", room.net.map { .number(Self.text($0)) } ?? .null),
                            ("price_with_tax", room.gross.map { .number(Self.text($0)) } ?? .null),
                            (
                                "rates",
                                .array(
                                    room.nights.map { night in
                                        .object([
                                            ("date", .string(night.0.description)),
                                            ("price_with_tax", .number(Self.text(night.1))),
                                        ])
                                    })
                            ),
                        ])
                    })
            ))
        if let guest = guest() { members.append(("clientInfo", guest)) }
        let data = JSONText.object(members)
        return OpenTravelReservation(
            version: BookingVersion(
                confirmationId: id, propertyCode: hotel, data: Array(data.text.utf8), otaTime: otaTime),
            eventType: eventType, cancelOnly: false, raw: element.range)
    }

    /// The staging event type and whether the reservation is cancelled, by the dialect's rules.
    private func status() throws -> (String, Bool) {
        let inner = element.attribute("ResStatus")
        switch origin {
        case .newQueue:
            return ("new", false)
        case .modifyQueue:
            return inner?.lowercased().hasPrefix("cancel") == true ? ("cancel", true) : ("update", false)
        case .push(let kind):
            if kind == .cancel { return ("cancel", true) }
            let stated = (inner?.isEmpty == false ? inner : root.attribute("ResStatus")) ?? ""
            let lowered = stated.lowercased()
            if lowered.hasPrefix("cancel") { return ("cancel", true) }
            if lowered == "modify" || (stated.isEmpty && kind == .resModifyNotif) { return ("update", false) }
            return ("new", false)
        }
    }

    private func createdTime() throws -> Date? {
        if let text = element.attribute("CreateDateTime") { return try time(text, "CreateDateTime") }
        let ids = element.child("ResGlobalInfo")?.child("HotelReservationIDs")?.children("HotelReservationID") ?? []
        if let text = ids.compactMap({ $0.attribute("ResID_Date") }).first { return try time(text, "ResID_Date") }
        return nil
    }

    private func modifiedTime() throws -> Date? {
        if let text = element.attribute("LastModifyDateTime") { return try time(text, "LastModifyDateTime") }
        if let text = root.attribute("TimeStamp") { return try time(text, "TimeStamp") }
        return nil
    }

    private func time(_ text: String, _ name: String) throws -> Date {
        guard let when = Timestamps.parse(text) else {
            throw Refusal("\(name) \"\(text)\" is not an ISO-8601 time", type: 3, code: 450)
        }
        return when
    }

    /// `POS/Source/BookingChannel/CompanyName/@Code`, else `POS/Source/RequestorID/@ID`
    /// (the reservation's POS first, then the message's).
    private func channel() -> String? {
        for pos in [element.child("POS"), root.child("POS")].compactMap({ $0 }) {
            for source in pos.children("Source") {
                if let code = source.child("BookingChannel")?.child("CompanyName")?.attribute("Code"), !code.isEmpty {
                    return code
                }
            }
            for source in pos.children("Source") {
                if let id = source.child("RequestorID")?.attribute("ID"), !id.isEmpty { return id }
            }
        }
        return nil
    }

    private func guest() -> JSONText? {
        guard
            let customer = element.child("ResGuests")?.child("ResGuest")?.child("Profiles")?.child("ProfileInfo")?
                .child("Profile")?.child("Customer")
        else { return nil }
        func text(_ e: SafeXML.Element?) -> String? {
            guard let e else { return nil }
            let value = String(decoding: e.text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return value.isEmpty ? nil : value
        }
        var members: [(String, JSONText)] = []
        if let first = text(customer.child("PersonName")?.child("GivenName")) {
            members.append(("firstName", .string(first)))
        }
        if let last = text(customer.child("PersonName")?.child("Surname")) {
            members.append(("lastName", .string(last)))
        }
        if let email = text(customer.child("Email")) { members.append(("email", .string(email))) }
        if let tel = customer.child("Telephone")?.attribute("PhoneNumber"), !tel.isEmpty {
            members.append(("tel", .string(tel)))
        }
        return members.isEmpty ? nil : .object(members)
    }

    private func room(_ stay: SafeXML.Element, currency: inout String?) throws -> Room {
        let roomRates = stay.child("RoomRates")?.children("RoomRate") ?? []
        let roomType =
            roomRates.compactMap({ $0.attribute("RoomTypeCode") }).first
            ?? stay.child("RoomTypes")?.child("RoomType")?.attribute("RoomTypeCode")
        let ratePlan =
            roomRates.compactMap({ $0.attribute("RatePlanCode") }).first
            ?? stay.child("RatePlans")?.child("RatePlan")?.attribute("RatePlanCode")
        // Nights priced by the room rates: [Effective, Expire) when Expire is later, else one night.
        var priced: [(CivilDate, CivilDate, Decimal, perNight: Bool)] = []
        for roomRate in roomRates {
            let rates = roomRate.child("Rates")?.children("Rate") ?? []
            for rate in rates {
                guard let startText = rate.attribute("EffectiveDate") ?? roomRate.attribute("EffectiveDate") else {
                    continue
                }
                let start = try date(startText, "EffectiveDate")
                let expire = try (rate.attribute("ExpireDate") ?? roomRate.attribute("ExpireDate")).map {
                    try date($0, "ExpireDate")
                }
                let end = expire.flatMap { $0 > start ? $0 : nil } ?? start.adding(days: 1)
                if let base = rate.child("Base"), let value = try amount(base, currency: &currency) {
                    priced.append((start, end, value, true))
                } else if let totalElement = rate.child("Total"),
                    let value = try amount(totalElement, currency: &currency)
                {
                    priced.append((start, end, value, false))
                }
            }
            if rates.isEmpty, let startText = roomRate.attribute("EffectiveDate"),
                let totalElement = roomRate.child("Total"), let value = try amount(totalElement, currency: &currency)
            {
                let start = try date(startText, "EffectiveDate")
                priced.append((start, start.adding(days: 1), value, false))
            }
        }
        var arrival: CivilDate
        var departure: CivilDate
        if let span = stay.child("TimeSpan"), let startText = span.attribute("Start"),
            let endText = span.attribute("End")
        {
            arrival = try date(startText, "TimeSpan Start")
            departure = try date(endText, "TimeSpan End")
        } else if !priced.isEmpty {
            // No TimeSpan (Booking.com): the stay is the priced nights; departure = last night + 1.
            arrival = priced.map(\.0).min()!
            departure = priced.map(\.1).max()!
        } else {
            throw Refusal("a RoomStay has neither a TimeSpan Start and End nor dated RoomRates", type: 10, code: 321)
        }
        guard arrival < departure else {
            throw Refusal("TimeSpan End \(departure) is not after Start \(arrival)", type: 3, code: 450)
        }
        var nights: [Int: Decimal] = [:]
        for (start, end, value, perNight) in priced {
            // Clamped to the stay.
            let first = max(start, arrival)
            let last = min(end, departure)
            guard first < last else { continue }
            let count = end.dayNumber - start.dayNumber
            for day in first.dayNumber..<last.dayNumber where nights[day] == nil {
                nights[day] = perNight ? value : Self.share(value, of: count, night: day - start.dayNumber)
            }
        }
        var net: Decimal?
        var gross: Decimal?
        if let totalElement = stay.child("Total") {
            let before = try decimal(totalElement.attribute("AmountBeforeTax"), "Total AmountBeforeTax")
            let after = try decimal(totalElement.attribute("AmountAfterTax"), "Total AmountAfterTax")
            if let code = totalElement.attribute("CurrencyCode"), currency == nil { currency = code }
            net = before
            gross = after ?? before
        }
        let stayNights = departure.dayNumber - arrival.dayNumber
        if nights.isEmpty, let gross {
            for k in 0..<stayNights { nights[arrival.dayNumber + k] = Self.share(gross, of: stayNights, night: k) }
        } else if gross == nil, !nights.isEmpty {
            gross = nights.values.reduce(0, +)
        }
        var adults: Int?
        var children: Int?
        if let counts = stay.child("GuestCounts") { (adults, children) = try guestCounts(counts) }
        return Room(
            arrival: arrival, departure: departure, roomType: roomType, ratePlan: ratePlan, adults: adults,
            children: children, net: net, gross: gross,
            nights: nights.keys.sorted().map { (CivilDate(dayNumber: $0), nights[$0]!) })
    }

    private func guestCounts(_ counts: SafeXML.Element) throws -> (Int?, Int?) {
        var adults: Int?
        var children: Int?
        for count in counts.children("GuestCount") {
            guard let text = count.attribute("Count"), let n = Int(text), (0...1000).contains(n) else {
                throw Refusal("GuestCount Count must be a whole number of guests", type: 3, code: 450)
            }
            switch count.attribute("AgeQualifyingCode") {
            case "8": children = (children ?? 0) + n
            default: adults = (adults ?? 0) + n
            }
        }
        return (adults, children)
    }

    /// An amount element's after-tax (else before-tax) amount, noting its currency.
    private func amount(_ element: SafeXML.Element, currency: inout String?) throws -> Decimal? {
        let value =
            try decimal(element.attribute("AmountAfterTax"), "\(element.localName) AmountAfterTax")
            ?? decimal(element.attribute("AmountBeforeTax"), "\(element.localName) AmountBeforeTax")
        if value != nil, currency == nil, let code = element.attribute("CurrencyCode") { currency = code }
        return value
    }

    private func decimal(_ text: String?, _ name: String) throws -> Decimal? {
        guard let text else { return nil }
        guard text.range(of: #"^[0-9]{1,9}(\.[0-9]{1,4})?$"#, options: .regularExpression) != nil,
            let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        else { throw Refusal("\(name) \"\(text)\" is not an amount (digits, optional decimals)", type: 3, code: 450) }
        return value
    }

    private func date(_ text: String, _ name: String) throws -> CivilDate {
        // A date, or a date-time whose date part is taken (OTA allows either).
        let day = text.count > 10 && text.dropFirst(10).first == "T" ? String(text.prefix(10)) : text
        guard let date = CivilDate(day) else {
            throw Refusal("\(name) \"\(text)\" is not a real date (YYYY-MM-DD)", type: 3, code: 450)
        }
        return date
    }

    /// Night `k` of `count` of `total`, rounded so the nights add up to the total exactly
    /// (the warehouse's own spreading rule).
    static func share(_ total: Decimal, of count: Int, night k: Int) -> Decimal {
        func rounded(_ value: Decimal) -> Decimal {
            var input = value
            var output = Decimal()
            NSDecimalRound(&output, &input, 2, .plain)
            return output
        }
        return rounded(total * Decimal(k + 1) / Decimal(count)) - rounded(total * Decimal(k) / Decimal(count))
    }

    /// A decimal's shortest text (180.50 and 180.5 are one amount, and hash alike).
    static func text(_ value: Decimal) -> String {
        var input = value
        var output = Decimal()
        NSDecimalRound(&output, &input, 4, .plain)
        return NSDecimalNumber(decimal: output).stringValue
    }
}

/// A JSON value written out as text (members in the order given; jsonb orders them anyway).
indirect enum JSONText {
    case string(String)
    case number(String)
    case object([(String, JSONText)])
    case array([JSONText])
    case null

    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .number(let text): out += text
        case .string(let text): Self.quote(text, to: &out)
        case .array(let items):
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (k, member) in members.enumerated() {
                if k > 0 { out += "," }
                Self.quote(member.0, to: &out)
                out += ":"
                member.1.write(to: &out)
            }
            out += "}"
        }
    }

    static func quote(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
