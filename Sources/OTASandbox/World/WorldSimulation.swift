/// The simulated clock: each minute every property draws its events from its own
/// stream (seed, property, minute), so advancing 60 minutes at once or in 60 steps
/// yields the same world.
extension WorldState {
    mutating func advance(minutes: Int) {
        for _ in 0..<max(0, minutes) {
            step()
        }
        openTravel.checkFallbacks(now: now)
    }

    private mutating func step() {
        let start = now
        let end = now + 60
        let minute = UInt64(end / 60)
        for p in layout.properties.indices {
            var rng = SeededGenerator(layout.seed, 7, UInt64(p), minute)
            var time = start + Int64(rng.int(1...10))
            func tick(_ rng: inout SeededGenerator) -> Int64 {
                time += Int64(rng.int(1...5))
                return time
            }
            if rng.chance(activity.newBooking) { createBooking(property: p, at: tick(&rng), rng: &rng) }
            if rng.chance(activity.modification) { modifyBooking(property: p, at: tick(&rng), rng: &rng) }
            if rng.chance(activity.cancellation) { cancelBooking(property: p, at: tick(&rng), rng: &rng) }
            if rng.chance(activity.restore) { restoreBooking(property: p, at: tick(&rng), rng: &rng) }
            if rng.chance(faults.resentNewRate) { resendAsNew(property: p, at: tick(&rng), rng: &rng) }
            if rng.chance(activity.priceChange) { changePrices(property: p, at: end, rng: &rng) }
            if rng.chance(activity.inventoryChange) { changeInventory(property: p, rng: &rng) }
            if rng.chance(activity.priceDrift) { driftPrice(property: p, rng: &rng) }
        }
        let layout = self.layout
        let grids = self.grids
        feed.commit(minute: Int32(end / 60)) { Self.feedValue(cell: $0, layout: layout, grids: grids) }
        now = end
    }

    /// A hotelier reprices a run of nights of one rate (all occupancies).
    private mutating func changePrices(property p: Int, at time: Int64, rng: inout SeededGenerator) {
        let rate = rng.int(layout.properties[p].rates)
        let occupancies = layout.rates[rate].occupancies
        let percent = rng.int(85...115)
        guard let first = layout.night(ofDay: today + rng.int(0...180)) else { return }
        for night in first..<min(layout.dayCount, first + rng.int(1...14)) {
            for adults in 1...occupancies {
                grids.prices[rate][night * occupancies + adults - 1] =
                    grids.prices[rate][night * occupancies + adults - 1] * percent / 100
            }
            markRateNightChanged(rate: rate, night: night)
            if wantsRateEvents {
                let base = min(2, occupancies)
                events.append(
                    .rateUpdate(
                        property: p, rate: rate, night: night, time: time,
                        priceCents: grids.price(rate: rate, night: night, adults: base, occupancies: occupancies)))
            }
        }
    }

    /// A hotelier changes allotment or restrictions of a run of nights of one room,
    /// sometimes a rate's own restrictions.
    private mutating func changeInventory(property p: Int, rng: inout SeededGenerator) {
        let room = rng.int(layout.properties[p].rooms)
        guard let first = layout.night(ofDay: today + rng.int(0...120)) else { return }
        let kind = rng.int(0...4)
        let delta = rng.chance(0.5) ? 1 : -1
        let rate = rng.int(layout.rooms[room].rates)
        for night in first..<min(layout.dayCount, first + rng.int(1...7)) {
            switch kind {
            case 0:
                let capacity = layout.rooms[room].capacity
                let value = grids.availability[room][night].allotment + delta
                grids.availability[room][night].allotment = min(capacity, max(0, value))
                markRoomNightChanged(room: room, night: night)
            case 1: grids.availability[room][night].stopSell.toggle()
            case 2:
                grids.availability[room][night].minStay = max(
                    1, min(3, grids.availability[room][night].minStay + delta))
            case 3: grids.availability[room][night].closedToArrival.toggle()
            default:
                grids.rateNights[rate][night].closeout.toggle()
                grids.rateNights[rate][night].minStay = rng.int(1...2)
            }
        }
    }

    /// One rate-night's prices move a little with no event at all.
    private mutating func driftPrice(property p: Int, rng: inout SeededGenerator) {
        let rate = rng.int(layout.properties[p].rates)
        let occupancies = layout.rates[rate].occupancies
        guard let night = layout.night(ofDay: today + rng.int(0...200)) else { return }
        let percent = rng.chance(0.5) ? rng.int(95...99) : rng.int(101...105)
        for adults in 1...occupancies {
            let index = night * occupancies + adults - 1
            grids.prices[rate][index] = grids.prices[rate][index] * percent / 100
            feed.drift(
                cell: layout.cellIndex(rate: rate, night: night, adults: adults), price: grids.prices[rate][index])
        }
        driftCount += 1
    }
}
