import Foundation

/// Turns WebHotelier availability and rate feed pages into staging rows,
/// expanding `from`/`to` entries to nights and refusing bad entries whole.
public enum InventoryPageParser {
    /// A refused entry: its bytes within the page and why.
    struct EntryError: Error {
        var reason: String
    }

    /// What a pulled feed entry needs beside its own bytes to become rows again: the
    /// feed's key (room code or rate id), the rate's room, the property's currency and
    /// the requested dates. Kept with its dead letter, so `dlq replay` can land it.
    public enum EntryContext {
        public static func availability(room: String, window: ClosedRange<CivilDate>) -> [String: String] {
            ["room": room, "from": window.lowerBound.description, "to": window.upperBound.description]
        }

        public static func rate(id: String, room: String, currency: String, window: ClosedRange<CivilDate>)
            -> [String: String]
        {
            [
                "rate": id, "room": room, "currency": currency, "from": window.lowerBound.description,
                "to": window.upperBound.description,
            ]
        }

        /// The requested dates back from a context, if it has them.
        public static func window(_ context: [String: String]) -> ClosedRange<CivilDate>? {
            guard let from = context["from"].flatMap(CivilDate.init), let to = context["to"].flatMap(CivilDate.init),
                from <= to
            else { return nil }
            return from...to
        }
    }

    /// `data` is an object keyed by room code, each an array of entries (dialect).
    public static func availability(
        _ page: WebHotelierClient.Envelope, window: ClosedRange<CivilDate>, stamp: LoadStamp
    ) throws -> (rows: [AvailabilityRow], refused: [RefusedRecord]) {
        var rows: [AvailabilityRow] = []
        let refused = try forEachEntry(
            page, keyName: "room", stamp: stamp, context: { EntryContext.availability(room: $0, window: window) }
        ) { room, entry, scanner in
            rows += try availabilityEntry(entry, room: room, scanner, window: window, stamp: stamp)
        }
        return (rows, refused)
    }

    /// One availability entry of `room` as rows, one per night.
    static func availabilityEntry(
        _ entry: JSONScanner.Value, room: String, _ scanner: JSONScanner, window: ClosedRange<CivilDate>,
        stamp: LoadStamp
    ) throws -> [AvailabilityRow] {
        let nights = try nightsOf(entry, scanner, window: window)
        let allot = try int(entry, "allot", scanner, required: true, min: 0)!
        let stopSell = try flag(entry, "stopsell", scanner, default: false)
        let minStay = try int(entry, "minstay", scanner, required: false, min: 1) ?? 1
        let maxStay = try int(entry, "maxstay", scanner, required: false, min: 0) ?? 0
        // checkin/checkout say open (1) or closed (0); the columns say closed.
        let arrivalOpen = try flag(entry, "checkin", scanner, default: true)
        let departureOpen = try flag(entry, "checkout", scanner, default: true)
        return nights.map { night in
            AvailabilityRow(
                stamp: stamp, roomCode: room, stayDate: night.description, allotment: allot,
                stopSell: stopSell, minStay: minStay, maxStay: maxStay,
                closedToArrival: !arrivalOpen, closedToDeparture: !departureOpen, raw: entry.range)
        }
    }

    /// `data` is an object keyed by rate id, each an array of entries with a
    /// price per occupancy; the room comes from the rate list, the currency from the property.
    public static func rates(
        _ page: WebHotelierClient.Envelope, window: ClosedRange<CivilDate>, stamp: LoadStamp,
        rateRooms: [String: String], currency: String
    ) throws -> (rows: [RateRow], refused: [RefusedRecord]) {
        var rows: [RateRow] = []
        let refused = try forEachEntry(
            page, keyName: "rate", stamp: stamp,
            context: { EntryContext.rate(id: $0, room: rateRooms[$0] ?? "", currency: currency, window: window) }
        ) { rateId, entry, scanner in
            rows += try rateEntry(
                entry, rateId: rateId, room: rateRooms[rateId] ?? "", currency: currency, scanner, window: window,
                stamp: stamp)
        }
        return (rows, refused)
    }

    /// One rate entry as rows, one per night and occupancy.
    static func rateEntry(
        _ entry: JSONScanner.Value, rateId: String, room: String, currency: String, _ scanner: JSONScanner,
        window: ClosedRange<CivilDate>, stamp: LoadStamp
    ) throws -> [RateRow] {
        let nights = try nightsOf(entry, scanner, window: window)
        let closeout = try flag(entry, "closeout", scanner, default: false)
        let minStay = try int(entry, "min_stay", scanner, required: false, min: 1) ?? 1
        guard let pricing = try scanner.member("pricing", of: entry) else {
            throw EntryError(reason: "missing key pricing")
        }
        guard pricing.kind == .array else { throw EntryError(reason: "pricing must be an array") }
        var prices: [(adults: Int, children: Int, price: String)] = []
        try scanner.elements(of: pricing) { occupancy in
            guard occupancy.kind == .object else { throw EntryError(reason: "pricing[] must be objects") }
            let adults = try int(occupancy, "adults", scanner, required: true, min: 1)!
            let children = try int(occupancy, "children", scanner, required: false, min: 0) ?? 0
            guard let price = try scanner.member("price", of: occupancy) else {
                throw EntryError(reason: "pricing[].price is missing")
            }
            prices.append((adults, children, try decimal(price, scanner, label: "pricing[].price")))
        }
        var rows: [RateRow] = []
        for night in nights {
            for p in prices {
                rows.append(
                    RateRow(
                        stamp: stamp, stream: "rates", rateId: rateId, roomCode: room,
                        stayDate: night.description, adults: p.adults, children: p.children, channel: "",
                        price: p.price, currency: currency, closeout: closeout, minStay: minStay,
                        available: nil, sourceKey: nil, sourceHash: nil, sourceUpdatedAt: nil,
                        raw: entry.range))
            }
        }
        return rows
    }

    /// The rows a replayed feed entry becomes.
    public enum ReplayedEntry: Sendable {
        case availability([AvailabilityRow])
        case rates([RateRow])
    }

    /// A dead-lettered feed entry read again with today's rules, given the context it
    /// was kept with: its rows, or why it is still refused.
    public static func replayEntry(
        _ raw: [UInt8], stream: String, context: [String: String], stamp: LoadStamp
    ) -> Result<ReplayedEntry, RecordRefusal> {
        guard let window = EntryContext.window(context) else {
            return .failure(RecordRefusal(reason: "the dead letter has no requested dates in its context"))
        }
        return raw.withUnsafeBufferPointer { buffer in
            let scanner = JSONScanner(buffer)
            do {
                let entry = try scanner.value(in: 0..<buffer.count)
                switch (stream, context["room"], context["rate"]) {
                case ("availability", let room?, _):
                    return .success(
                        .availability(try availabilityEntry(entry, room: room, scanner, window: window, stamp: stamp)))
                case ("rates", let room?, let rate?):
                    return .success(
                        .rates(
                            try rateEntry(
                                entry, rateId: rate, room: room, currency: context["currency"] ?? "", scanner,
                                window: window, stamp: stamp)))
                default:
                    return .failure(RecordRefusal(reason: "the context names no room or rate"))
                }
            } catch let error as EntryError {
                return .failure(RecordRefusal(reason: error.reason))
            } catch {
                return .failure(RecordRefusal(reason: "not a JSON entry: \(error)"))
            }
        }
    }

    /// Walks a feed page's `data` object (keyed by room code or rate id, each an
    /// array of entries) and hands each entry to `body`; an entry the body refuses
    /// with `EntryError`, or a key without an array, is returned as refused, with the
    /// context `context` gives for its key.
    private static func forEachEntry(
        _ page: WebHotelierClient.Envelope, keyName: String, stamp: LoadStamp,
        context: (String) -> [String: String],
        _ body: (String, JSONScanner.Value, JSONScanner) throws -> Void
    ) throws -> [RefusedRecord] {
        try page.read { scanner, data in
            var refused: [RefusedRecord] = []
            guard data.kind == .object else { throw EntryError(reason: "feed data is not an object") }
            try scanner.members(of: data) { keyRange, entries in
                let key = (try? scanner.key(keyRange)) ?? ""
                guard entries.kind == .array else {
                    refused.append(
                        RefusedRecord(
                            raw: entries.range, key: key, reason: "\(keyName) \(key): entries are not an array",
                            context: context(key)))
                    return
                }
                var position = 0
                try scanner.elements(of: entries) { entry in
                    position += 1
                    do {
                        guard !key.isEmpty else { throw EntryError(reason: "empty \(keyName) code") }
                        try body(key, entry, scanner)
                    } catch let error as EntryError {
                        // The entry's place in its array is part of the context: two nights of one
                        // room can be broken into the same bytes, and they are two records.
                        var entryContext = context(key)
                        entryContext["entry"] = String(position)
                        refused.append(
                            RefusedRecord(
                                raw: entry.range, key: "\(stamp.propertyCode)/\(key)",
                                reason: "\(keyName) \(key): \(error.reason)", context: entryContext))
                    }
                }
            }
            return refused
        }
    }

    // MARK: - Field rules

    static func nightsOf(_ entry: JSONScanner.Value, _ scanner: JSONScanner, window: ClosedRange<CivilDate>) throws
        -> [CivilDate]
    {
        guard entry.kind == .object else { throw EntryError(reason: "entry is not an object") }
        let first: CivilDate
        let last: CivilDate
        if let date = try scanner.member("date", of: entry) {
            first = try civilDate(date, scanner, label: "date")
            last = first
        } else if let from = try scanner.member("from", of: entry), let to = try scanner.member("to", of: entry) {
            first = try civilDate(from, scanner, label: "from")
            last = try civilDate(to, scanner, label: "to")
            guard first <= last else { throw EntryError(reason: "from \(first) is after to \(last)") }
        } else {
            throw EntryError(reason: "entry has neither date nor from/to")
        }
        guard window.contains(first), window.contains(last) else {
            throw EntryError(
                reason: "dates \(first)..\(last) fall outside the requested \(window.lowerBound)..\(window.upperBound)")
        }
        return (first.dayNumber...last.dayNumber).map(CivilDate.init(dayNumber:))
    }

    static func civilDate(_ value: JSONScanner.Value, _ scanner: JSONScanner, label: String) throws -> CivilDate {
        guard value.kind == .string, let text = try? scanner.string(value), let date = CivilDate(text) else {
            throw EntryError(reason: "\(label) must be a real date (YYYY-MM-DD)")
        }
        return date
    }

    static func int(_ object: JSONScanner.Value, _ key: StaticString, _ scanner: JSONScanner, required: Bool, min: Int)
        throws -> Int?
    {
        try int(scanner.member(key, of: object), label: "\(key)", scanner, required: required, min: min)
    }

    /// The integer rule on a value already found (nil when the key is absent), for
    /// readers that collect an object's members in one pass.
    static func int(_ value: JSONScanner.Value?, label: String, _ scanner: JSONScanner, required: Bool, min: Int)
        throws -> Int?
    {
        guard let value else {
            if required { throw EntryError(reason: "missing key \(label)") }
            return nil
        }
        guard value.kind == .number, let number = try? scanner.int(value) else {
            throw EntryError(reason: "\(label) must be an integer")
        }
        guard number >= min else { throw EntryError(reason: "\(label) \(number) is below \(min)") }
        return number
    }

    static func flag(_ object: JSONScanner.Value, _ key: StaticString, _ scanner: JSONScanner, default value: Bool)
        throws -> Bool
    {
        try flag(scanner.member(key, of: object), label: "\(key)", scanner, default: value)
    }

    /// The 0/1 flag rule on a value already found (nil when the key is absent).
    static func flag(_ value: JSONScanner.Value?, label: String, _ scanner: JSONScanner, default fallback: Bool)
        throws -> Bool
    {
        guard let found = try int(value, label: label, scanner, required: false, min: 0) else { return fallback }
        guard found <= 1 else { throw EntryError(reason: "\(label) must be 0 or 1") }
        return found == 1
    }

    /// A non-negative JSON number kept as its exact decimal text.
    static func decimal(_ value: JSONScanner.Value, _ scanner: JSONScanner, label: String) throws -> String {
        guard value.kind == .number else { throw EntryError(reason: "\(label) must be a number") }
        let text = scanner.text(value)
        guard let number = Double(text), number.isFinite, number >= 0, number < 1e9 else {
            throw EntryError(reason: "\(label) \(text) must be between 0 and 1e9")
        }
        return text
    }
}
