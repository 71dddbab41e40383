/// One cell (hotel, room, rate plan, night) as the accepted ARI messages left it: each
/// field is the value of the last message that set it, or nil when none did.
public struct OpenTravelARICellTruth: Sendable, Equatable {
    /// The price for one number of guests.
    public struct Price: Sendable, Equatable {
        public var guests: Int
        public var cents: Int
        public var currency: String
        public var afterTax: Bool

        public init(guests: Int, cents: Int, currency: String, afterTax: Bool) {
            self.guests = guests
            self.cents = cents
            self.currency = currency
            self.afterTax = afterTax
        }
    }

    public var hotel: String
    /// "" when a message named only a rate plan the hotel does not have.
    public var room: String
    /// "" when a message named only a room the hotel does not have.
    public var rate: String
    public var date: String
    public var bookingLimit: Int?
    /// Closed for stay (`Restriction="Master"` or none).
    public var stopSell: Bool?
    public var closedToArrival: Bool?
    public var closedToDeparture: Bool?
    public var minStay: Int?
    /// "through" (`SetMinLOS`) or "arrival" (`SetForwardMinStay`).
    public var minStayKind: String?
    public var maxStay: Int?
    /// By number of guests.
    public var prices: [Price]

    public init(
        hotel: String, room: String, rate: String, date: String, bookingLimit: Int? = nil, stopSell: Bool? = nil,
        closedToArrival: Bool? = nil, closedToDeparture: Bool? = nil, minStay: Int? = nil, minStayKind: String? = nil,
        maxStay: Int? = nil, prices: [Price]
    ) {
        self.hotel = hotel
        self.room = room
        self.rate = rate
        self.date = date
        self.bookingLimit = bookingLimit
        self.stopSell = stopSell
        self.closedToArrival = closedToArrival
        self.closedToDeparture = closedToDeparture
        self.minStay = minStay
        self.minStayKind = minStayKind
        self.maxStay = maxStay
        self.prices = prices
    }
}

/// Applies ARI requests in the order given by the dialect's rules: date ranges and
/// weekday flags to nights, a message without a rate plan to every rate of its room
/// (without a room: the rate plan's room; without either: every rate of the hotel), a
/// code the hotel does not have to a cell of its own, availability and restrictions named
/// for a room without a rate plan to the room's own cell (rate "") as well, prices per number of guests with
/// extra adults up to the room's capacity, and the last message to set a field wins.
struct OpenTravelARIGrid {
    private struct Key: Hashable, Comparable {
        var hotel: String
        var room: String
        var rate: String
        var day: Int

        static func < (a: Key, b: Key) -> Bool {
            (a.hotel, a.room, a.rate, a.day) < (b.hotel, b.room, b.rate, b.day)
        }
    }

    private struct Cell {
        var bookingLimit: Int?
        var stopSell: Bool?
        var closedToArrival: Bool?
        var closedToDeparture: Bool?
        var minStay: Int?
        var minStayKind: String?
        var maxStay: Int?
        var prices: [Int: OpenTravelARICellTruth.Price] = [:]
    }

    let layout: WorldLayout
    private var cells: [Key: Cell] = [:]

    init(layout: WorldLayout) {
        self.layout = layout
    }

    /// The (room, rate, capacity) cells a control names in `hotel`.
    static func targets(hotel: String, room: String?, rate: String?, layout: WorldLayout) -> [(
        room: String, rate: String, capacity: Int?
    )] {
        guard let p = layout.propertyIndex(code: hotel) else {
            switch (room, rate) {
            case (let room?, let rate?): return [(room, rate, nil)]
            case (let room?, nil): return [(room, "", nil)]
            case (nil, let rate?): return [("", rate, nil)]
            case (nil, nil): return []
            }
        }
        let property = layout.properties[p]
        let rooms = layout.rooms[property.rooms]
        let rates = layout.rates[property.rates]
        func capacity(_ code: String) -> Int? { rooms.first { $0.code == code }?.maxAdults }
        switch (room, rate) {
        case (let room?, let rate?):
            return [(room, rate, capacity(room))]
        case (let room?, nil):
            guard let r = rooms.firstIndex(where: { $0.code == room }) else { return [(room, "", nil)] }
            return rates.filter { $0.room == r }.map { (room, String($0.id), layout.rooms[r].maxAdults) }
        case (nil, let rate?):
            guard let r = rates.first(where: { String($0.id) == rate }) else { return [("", rate, nil)] }
            return [(layout.rooms[r.room].code, rate, layout.rooms[r.room].maxAdults)]
        case (nil, nil):
            return rates.map { (layout.rooms[$0.room].code, String($0.id), layout.rooms[$0.room].maxAdults) }
        }
    }

    mutating func apply(_ request: OpenTravelARIRequest) {
        switch request.content {
        case .avail(let messages):
            for m in messages {
                each(request.hotel, m.control, room: true) { cell, _ in
                    if let limit = m.bookingLimit { cell.bookingLimit = limit }
                    if let status = m.status {
                        switch status.restriction {
                        case .master: cell.stopSell = status.closed
                        case .arrival: cell.closedToArrival = status.closed
                        case .departure: cell.closedToDeparture = status.closed
                        }
                    }
                    if let stay = m.stay {
                        switch stay.kind {
                        case .setMinLOS, .setForwardMinStay:
                            cell.minStay = stay.nights
                            cell.minStayKind = stay.kind == .setMinLOS ? "through" : "arrival"
                        case .setMaxLOS: cell.maxStay = stay.nights
                        }
                    }
                }
            }
        case .rates(let messages):
            for m in messages {
                each(request.hotel, m.control) { cell, capacity in
                    for a in m.amounts {
                        cell.prices[a.guests] = .init(
                            guests: a.guests, cents: a.cents, currency: m.currency, afterTax: m.afterTax)
                    }
                    if let extra = m.additionalAdultCents, let capacity,
                        let top = m.amounts.max(by: {
                            $0.guests < $1.guests
                        }), top.guests < capacity
                    {
                        for guests in (top.guests + 1)...capacity {
                            cell.prices[guests] = .init(
                                guests: guests, cents: top.cents + extra * (guests - top.guests), currency: m.currency,
                                afterTax: m.afterTax)
                        }
                    }
                }
            }
        }
    }

    /// `room`: availability and restrictions named for a room without a rate plan also set
    /// the room's own cell (rate ""), the room x night of facts.availability.
    private mutating func each(
        _ hotel: String, _ control: OpenTravelARIControl, room: Bool = false, _ set: (inout Cell, Int?) -> Void
    ) {
        var targets = Self.targets(hotel: hotel, room: control.room, rate: control.rate, layout: layout)
        if room, let code = control.room, control.rate == nil, !targets.contains(where: { $0.rate.isEmpty }) {
            targets.append((code, "", nil))
        }
        for target in targets {
            for day in control.start...control.end where control.applies(day: day) {
                set(
                    &cells[Key(hotel: hotel, room: target.room, rate: target.rate, day: day), default: Cell()],
                    target.capacity)
            }
        }
    }

    /// Every cell any accepted message touched, ordered by hotel, room, rate and night.
    func truth(hotel: String? = nil) -> [OpenTravelARICellTruth] {
        cells.keys.filter { hotel == nil || $0.hotel == hotel }.sorted().map { key in
            let c = cells[key]!
            return OpenTravelARICellTruth(
                hotel: key.hotel, room: key.room, rate: key.rate, date: CivilCalendar.dateString(days: key.day),
                bookingLimit: c.bookingLimit, stopSell: c.stopSell, closedToArrival: c.closedToArrival,
                closedToDeparture: c.closedToDeparture, minStay: c.minStay, minStayKind: c.minStayKind,
                maxStay: c.maxStay, prices: c.prices.keys.sorted().map { c.prices[$0]! })
        }
    }
}

extension OpenTravelARICellTruth {
    var jsonValue: JSONValue {
        func value<T>(_ v: T?, _ make: (T) -> JSONValue) -> JSONValue { v.map(make) ?? .null }
        return .object([
            "hotel" => .string(hotel), "room" => .string(room), "rate" => .string(rate), "date" => .string(date),
            "booking_limit" => value(bookingLimit, JSONValue.int), "stop_sell" => value(stopSell, JSONValue.bool),
            "closed_to_arrival" => value(closedToArrival, JSONValue.bool),
            "closed_to_departure" => value(closedToDeparture, JSONValue.bool),
            "min_stay" => value(minStay, JSONValue.int), "min_stay_kind" => value(minStayKind, JSONValue.string),
            "max_stay" => value(maxStay, JSONValue.int),
            "prices"
                => .array(
                    prices.map {
                        .object([
                            "guests" => .int($0.guests), "amount" => .cents($0.cents),
                            "currency" => .string($0.currency), "tax" => .string($0.afterTax ? "after" : "before"),
                        ])
                    }),
        ])
    }
}
