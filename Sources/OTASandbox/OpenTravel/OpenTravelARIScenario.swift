/// Makes the ARI requests of one plan from the seeded world: a pure function of the
/// seed, the layout, the batch number, today and the plan, so a seed names the bytes.
struct OpenTravelARIScenario {
    let layout: WorldLayout
    let plan: OpenTravelARIPlan
    let today: Int
    let time: Int64
    var rng: SeededGenerator

    static let unknownHotel = "HTLX99"

    init(seed: UInt64, batch: Int, layout: WorldLayout, plan: OpenTravelARIPlan, now: Int64) {
        self.layout = layout
        self.plan = plan
        self.time = now
        today = Int(now / 86_400)
        rng = SeededGenerator(seed, 75, UInt64(batch))
    }

    private var hotels: [Int] {
        layout.properties.indices.filter { plan.hotel == nil || layout.properties[$0].code == plan.hotel }
    }

    mutating func requests() -> [OpenTravelARIRequest] {
        var out: [OpenTravelARIRequest] = []
        if plan.flush {
            for p in hotels { out += flush(property: p) }
        }
        let hotels = self.hotels
        guard !hotels.isEmpty else { return out }
        var oversizeAt = Set<Int>()
        while oversizeAt.count < min(plan.oversize, plan.deltas) { oversizeAt.insert(rng.int(0..<plan.deltas)) }
        for i in 0..<plan.deltas {
            var request = delta(property: hotels[rng.int(0..<hotels.count)])
            // A sender stamps each message when it sends it: one simulated second apart, after the flush.
            request.time = time + Int64(i + 1)
            if oversizeAt.contains(i) {
                request.faults.insert(.oversize)
                request.padTo = plan.oversizeBytes
            }
            out.append(request)
        }
        return out
    }

    // MARK: flush

    /// Every field of every rate of every room over `flushDays`, in runs of 1-14 days
    /// with the same value: one availability request and one rate request.
    private mutating func flush(property p: Int) -> [OpenTravelARIRequest] {
        let property = layout.properties[p]
        var avail: [OpenTravelARIAvail] = []
        var rates: [OpenTravelARIRate] = []
        let last = today + plan.flushDays - 1
        for r in property.rates {
            let rate = layout.rates[r]
            let room = layout.rooms[rate.room]
            func control(_ start: Int, _ end: Int) -> OpenTravelARIControl {
                OpenTravelARIControl(start: start, end: end, room: room.code, rate: String(rate.id), days: nil)
            }
            for field in 0..<6 {
                var day = today
                while day <= last {
                    let end = min(last, day + rng.int(0..<14))
                    var m = OpenTravelARIAvail(control: control(day, end))
                    switch field {
                    case 0: m.bookingLimit = rng.int(0...8)
                    case 1: m.status = (.master, rng.chance(0.1), rng.chance(0.5))
                    case 2: m.status = (.arrival, rng.chance(0.15), false)
                    case 3: m.status = (.departure, rng.chance(0.1), false)
                    case 4: m.stay = (rng.chance(0.7) ? .setMinLOS : .setForwardMinStay, rng.int(1...4))
                    default: m.stay = (.setMaxLOS, rng.int(7...30))
                    }
                    avail.append(m)
                    day = end + 1
                }
            }
            var day = today
            while day <= last {
                let end = min(last, day + rng.int(0..<14))
                rates.append(rateMessage(control(day, end), capacity: room.maxAdults, currency: property.currency))
                day = end + 1
            }
        }
        return [
            OpenTravelARIRequest(
                hotel: property.code, content: .avail(avail), faults: [.flush], time: time, namespace: true,
                repeatRate: plan.repeatRate),
            OpenTravelARIRequest(
                hotel: property.code, content: .rates(rates), faults: [.flush], time: time, namespace: true,
                repeatRate: plan.repeatRate),
        ]
    }

    // MARK: deltas

    private mutating func delta(property p: Int) -> OpenTravelARIRequest {
        let property = layout.properties[p]
        var faults = Set<OpenTravelARIFault>()
        var hotel = property.code
        if rng.chance(plan.unknownHotelRate) {
            hotel = Self.unknownHotel
            faults.insert(.unknownHotel)
        }
        let isRate = rng.chance(0.4)
        let count = rng.int(1...4)
        var avail: [OpenTravelARIAvail] = []
        var rates: [OpenTravelARIRate] = []
        for _ in 0..<count {
            let r = layout.rates[property.rates.lowerBound + rng.int(0..<property.rates.count)]
            let room = layout.rooms[r.room]
            let start = today + rng.int(0..<plan.deltaHorizonDays)
            var control = OpenTravelARIControl(
                start: start, end: start + rng.int(0..<30), room: room.code, rate: String(r.id), days: nil)
            if rng.chance(0.3) {
                var days = (0..<7).map { _ in rng.chance(0.6) }
                days[rng.int(0..<7)] = false
                control.days = days
                faults.insert(.dayMask)
            }
            // Room-only and hotel-wide controls of availability; rate-only for both kinds.
            let shape = rng.int(0..<20)
            if shape < 4 && !isRate {
                control.rate = nil
                faults.insert(.roomOnly)
            } else if shape == 4 {
                control.room = nil
                faults.insert(.rateOnly)
            } else if shape == 5 && !isRate {
                control.room = nil
                control.rate = nil
                faults.insert(.hotelWide)
            }
            // The room's capacity, when the receiver can know it (from the room, or the rate's room).
            var capacity: Int? = room.maxAdults
            if rng.chance(plan.unknownCodeRate) {
                if control.room != nil && (control.rate == nil || rng.chance(0.5)) {
                    control.room = "ZZ\(rng.int(1...3))"
                    capacity = nil
                    faults.insert(.unknownRoom)
                } else if control.rate != nil {
                    control.rate = String(90_000 + rng.int(1...3))
                    if control.room == nil { capacity = nil }
                    faults.insert(.unknownRate)
                }
            }
            if isRate {
                var m = rateMessage(control, capacity: capacity ?? 2, currency: property.currency)
                if rng.chance(plan.wrongGuestCountRate) {
                    let guests = m.amounts.last.map(\.guests) ?? 1
                    if capacity == nil || rng.chance(0.5) {
                        m.amounts.append(.init(guests: guests, cents: m.amounts.last?.cents ?? 1000))
                    } else {
                        m.amounts = (1...(capacity! + 1)).map { .init(guests: $0, cents: 5_000 + 1_500 * $0) }
                    }
                    m.additionalAdultCents = nil
                    faults.insert(.wrongGuestCount)
                }
                rates.append(m)
            } else {
                avail.append(availMessage(control))
            }
        }
        return OpenTravelARIRequest(
            hotel: hotel, content: isRate ? .rates(rates) : .avail(avail), faults: faults, time: time,
            namespace: !rng.chance(0.1), repeatRate: plan.repeatRate)
    }

    /// A booking limit, one restriction, or (now and then) a booking limit with one restriction.
    private mutating func availMessage(_ control: OpenTravelARIControl) -> OpenTravelARIAvail {
        var m = OpenTravelARIAvail(control: control)
        let pick = rng.int(0..<7)
        if pick == 0 || pick == 6 { m.bookingLimit = rng.int(0...8) }
        switch pick {
        case 1: m.status = (.master, rng.chance(0.5), rng.chance(0.5))
        case 2: m.status = (.arrival, rng.chance(0.5), false)
        case 3: m.status = (.departure, rng.chance(0.5), false)
        case 4: m.stay = (rng.chance(0.5) ? .setMinLOS : .setForwardMinStay, rng.int(1...5))
        case 5: m.stay = (.setMaxLOS, rng.int(5...21))
        case 6: m.status = (.arrival, rng.chance(0.5), false)
        default: break
        }
        return m
    }

    /// Prices for 1..capacity guests, or for fewer with an extra-adult amount for the rest.
    private mutating func rateMessage(_ control: OpenTravelARIControl, capacity: Int, currency: String)
        -> OpenTravelARIRate
    {
        let base = 4_000 + rng.int(0..<200) * 50
        let step = 1_000 + rng.int(0..<10) * 100
        let given = capacity > 1 && rng.chance(0.3) ? capacity - 1 : capacity
        var m = OpenTravelARIRate(
            control: control, currency: currency, currencyOnRate: rng.chance(0.3), afterTax: !rng.chance(0.2),
            invCode: rng.chance(0.3),
            amounts: (1...max(1, given)).map { .init(guests: $0, cents: base + step * ($0 - 1)) },
            additionalAdultCents: nil)
        if given < capacity { m.additionalAdultCents = step }
        return m
    }
}
