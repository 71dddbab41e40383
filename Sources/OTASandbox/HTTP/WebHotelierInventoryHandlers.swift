/// The availability and rate feeds, the rate list, the property and the calendar.
extension WebHotelierAPI {
    /// Validates from/to (inclusive, at most today + 3 years) and clips them to the
    /// world's horizon; nights outside it are simply absent.
    private func nights(_ call: WebHotelierCall, from: String = "from", to: String = "to", maxDays: Int? = nil) throws
        -> Range<Int>
    {
        let first = try call.date(from)
        let last = try call.date(to)
        guard first <= last else { throw WebHotelierError.invalidParam("\(from) must not be after \(to).") }
        let today = core.world.withLock { $0.today }
        guard last <= today + 3 * 365 + 1 else {
            throw WebHotelierError.invalidParam("\(to) is more than 3 years ahead.")
        }
        if let maxDays, last - first + 1 > maxDays {
            throw WebHotelierError.invalidParam("At most \(maxDays) days per call.")
        }
        let lower = max(0, first - core.layout.firstDay)
        let upper = min(core.layout.dayCount, last - core.layout.firstDay + 1)
        return lower < upper ? lower..<upper : 0..<0
    }

    private func dateValue(_ night: Int, malformation: MalformationKind?) -> JSONValue {
        let day = core.layout.firstDay + night
        switch malformation {
        case .impossibleDate: return .string(Malformation.impossibleDate(near: day))
        case .invalidUTF8:
            return .rawString(Array(CivilCalendar.dateString(days: day).utf8) + Malformation.invalidUTF8Bytes)
        case .nulInString: return .string(CivilCalendar.dateString(days: day) + "\u{0}")
        default: return .string(CivilCalendar.dateString(days: day))
        }
    }

    /// Runs of identical nights become one `from`/`to` entry; a lone night, or a
    /// malformed one, gets `date`.
    private func compress<Value: Equatable>(
        _ range: Range<Int>, value: (Int) -> Value, malformation: (Int) -> MalformationKind?,
        fields: (Value, MalformationKind?) -> [JSONMember]
    ) -> JSONValue {
        var entries: [JSONValue] = []
        var night = range.lowerBound
        while night < range.upperBound {
            if let broken = malformation(night) {
                entries.append(
                    .object(["date" => dateValue(night, malformation: broken)] + fields(value(night), broken)))
                night += 1
                continue
            }
            let v = value(night)
            var end = night + 1
            while end < range.upperBound && malformation(end) == nil && value(end) == v { end += 1 }
            let dates: [JSONMember] =
                end - night == 1
                ? ["date" => dateValue(night, malformation: nil)]
                : ["from" => dateValue(night, malformation: nil), "to" => dateValue(end - 1, malformation: nil)]
            entries.append(.object(dates + fields(v, nil)))
            night = end
        }
        return .array(entries)
    }

    func availability(room code: String?, call: WebHotelierCall, property: Int) throws -> JSONValue {
        let range = try nights(call)
        let rooms = core.layout.properties[property].rooms.filter { code == nil || core.layout.rooms[$0].code == code }
        if rooms.isEmpty { throw WebHotelierError.notFound("Room not found.") }
        return core.world.withLock { state in
            .object(
                rooms.map { room in
                    core.layout.rooms[room].code
                        => compress(
                            range, value: { state.grids.availability[room][$0] },
                            malformation: { state.availabilityMalformation(room: room, night: $0) },
                            fields: { a, broken in
                                var allot: [JSONMember] = ["allot" => .int(a.allotment)]
                                switch broken {
                                case .wrongType: allot = ["allot" => .string(String(a.allotment))]
                                case .missingKey: allot = []
                                case .negativeAllotment: allot = ["allot" => .int(-(a.allotment + 1))]
                                default: break
                                }
                                return allot + [
                                    "stopsell" => .int(a.stopSell ? 1 : 0), "minstay" => .int(a.minStay),
                                    "maxstay" => .int(a.maxStay), "checkin" => .int(a.closedToArrival ? 0 : 1),
                                    "checkout" => .int(a.closedToDeparture ? 0 : 1),
                                ]
                            })
                })
        }
    }

    private struct RateNightValue: Equatable {
        var night: RateNight
        var prices: ArraySlice<Int>
    }

    func rates(rate text: String?, call: WebHotelierCall, property: Int) throws -> JSONValue {
        let range = try nights(call)
        let roomFilter = call.query["rooms"].map { Set($0.split(separator: ",").map(String.init)) }
        let layout = core.layout
        let rates = layout.properties[property].rates.filter { r in
            (text == nil || String(layout.rates[r].id) == text)
                && (roomFilter == nil || roomFilter!.contains(layout.rooms[layout.rates[r].room].code))
        }
        if text != nil && rates.isEmpty { throw WebHotelierError.notFound("Rate not found.") }
        return core.world.withLock { state in
            .object(
                rates.filter { !state.withdrawnRates.contains($0) }.map { rate in
                    let occupancies = layout.rates[rate].occupancies
                    return String(layout.rates[rate].id)
                        => compress(
                            range,
                            value: {
                                RateNightValue(
                                    night: state.grids.rateNights[rate][$0],
                                    prices: state.grids.prices[rate][($0 * occupancies)..<(($0 + 1) * occupancies)])
                            },
                            malformation: { state.rateMalformation(rate: rate, night: $0) },
                            fields: { v, broken in
                                var members: [JSONMember] = []
                                if broken != .missingKey {
                                    members.append(
                                        "pricing"
                                            => .array(
                                                v.prices.enumerated().map { i, cents in
                                                    .object([
                                                        "adults" => .int(i + 1), "children" => .int(0),
                                                        "price" => broken == .wrongType
                                                            ? .string(String(Double(cents) / 100)) : .cents(cents),
                                                    ])
                                                }))
                                }
                                members.append("extra_adult" => .cents(v.night.extraAdultCents))
                                members.append("extra_child" => .cents(v.night.extraChildCents))
                                if v.night.closeout { members.append("closeout" => .int(1)) }
                                if v.night.minStay != 1 { members.append("min_stay" => .int(v.night.minStay)) }
                                return members
                            })
                })
        }
    }

    func rateList(code: String, property: Int) throws -> JSONValue {
        try checkOwnProperty(code, property: property)
        let layout = core.layout
        return .object([
            "rates"
                => .array(
                    layout.properties[property].rates.map {
                        .object([
                            "id" => .int(layout.rates[$0].id),
                            "room" => .string(layout.rooms[layout.rates[$0].room].code),
                            "name" => .string(layout.rates[$0].name), "board" => .string(layout.rates[$0].board),
                        ])
                    })
        ])
    }

    func propertyInfo(code: String, property: Int) throws -> JSONValue {
        try checkOwnProperty(code, property: property)
        let p = core.layout.properties[property]
        return .object([
            "code" => .string(p.code), "name" => .string(p.name), "currency" => .string(p.currency),
            "timezone" => .string(p.timeZone),
            "rooms"
                => .array(
                    p.rooms.map {
                        .object([
                            "code" => .string(core.layout.rooms[$0].code),
                            "name" => .string(core.layout.rooms[$0].name),
                        ])
                    }),
        ])
    }

    /// The booking-engine view: per night the cheapest open rate for `adults` among
    /// the rates asked for (one rate, a room's rates, or all).
    func calendar(code: String, call: WebHotelierCall, property: Int) throws -> JSONValue {
        try checkOwnProperty(code, property: property)
        let range = try nights(call, from: "fromd", to: "tod", maxDays: 92)
        let adults = try call.optionalInt("adults", default: 2, range: 1...9)
        let layout = core.layout
        var candidates = Array(layout.properties[property].rates)
        if let room = call.query["room"] {
            candidates = candidates.filter { layout.rooms[layout.rates[$0].room].code == room }
            if candidates.isEmpty { throw WebHotelierError.notFound("Room not found.") }
        }
        if let rate = call.query["rate"] {
            candidates = candidates.filter { String(layout.rates[$0].id) == rate }
            if candidates.isEmpty { throw WebHotelierError.notFound("Rate not found.") }
        }
        let rooms = Array(Set(candidates.map { layout.rates[$0].room })).sorted()
        return core.world.withLock { state in
            let days: [JSONValue] = range.map { night in
                let open = candidates.filter { r in
                    let a = state.grids.availability[layout.rates[r].room][night]
                    return layout.rates[r].occupancies >= adults && !a.stopSell && a.allotment > 0
                        && !state.grids.rateNights[r][night].closeout
                }
                let cheapest = open.min {
                    state.grids.price(rate: $0, night: night, adults: adults, occupancies: layout.rates[$0].occupancies)
                        < state.grids.price(
                            rate: $1, night: night, adults: adults, occupancies: layout.rates[$1].occupancies)
                }
                let shown = cheapest ?? candidates[0]
                let a = state.grids.availability[layout.rates[shown].room][night]
                return .object([
                    "date" => .string(CivilCalendar.dateString(days: layout.firstDay + night)),
                    "allot" => .int(rooms.reduce(0) { $0 + state.grids.availability[$1][night].allotment }),
                    "price"
                        => cheapest.map {
                            .cents(
                                state.grids.price(
                                    rate: $0, night: night, adults: adults, occupancies: layout.rates[$0].occupancies))
                        } ?? .null,
                    "min_stay" => .int(max(a.minStay, state.grids.rateNights[shown][night].minStay)),
                    "max_stay" => .int(a.maxStay == 0 ? -1 : a.maxStay),
                    "checkin"
                        => .int(
                            open.contains { !state.grids.availability[layout.rates[$0].room][night].closedToArrival }
                                ? 1 : 0),
                ])
            }
            return .object(["days" => .array(days)])
        }
    }
}
