/// How bookings are made, changed, cancelled and restored, and how each change
/// becomes a version, an allotment movement and a sync-queue entry.
extension WorldState {
    private static let firstNames = [
        "Maria", "Nikos", "Anna", "Giorgos", "Sophie", "James", "Elena", "Luca", "Emma", "Jonas",
    ]
    private static let lastNames = ["Papadopoulou", "Rossi", "Garcia", "Smith", "Müller", "Dubois", "Nowak", "Jensen"]
    private static let countries = ["GR", "IT", "ES", "GB", "DE", "FR", "PL", "DK", "US"]
    private static let sources: [(id: Int, name: String, stream: String, prefix: String)] = [
        (0, "Direct", "webhotelier", "WH"), (1, "Booking.com", "booking", "BDC"), (2, "Expedia", "expedia", "EXP"),
        (3, "Airbnb", "airbnb", "ABB"), (4, "Phone", "offline", "TEL"),
    ]

    // MARK: allotment

    private func canHold(room: Int, rate: Int, arrival: Int, departure: Int, rooms: Int, strict: Bool) -> Bool {
        guard let first = layout.night(ofDay: arrival), let last = layout.night(ofDay: departure - 1),
            layout.night(ofDay: departure) != nil, arrival > today
        else { return false }
        for night in first...last {
            let a = grids.availability[room][night]
            if a.allotment < rooms { return false }
            if strict && (a.stopSell || grids.rateNights[rate][night].closeout) { return false }
        }
        if strict {
            let a = grids.availability[room][first]
            let minimum = max(a.minStay, grids.rateNights[rate][first].minStay)
            if a.closedToArrival || departure - arrival < minimum { return false }
            if a.maxStay > 0 && departure - arrival > a.maxStay { return false }
            if grids.availability[room][last + 1].closedToDeparture { return false }
        }
        return true
    }

    private mutating func moveAllotment(_ body: BookingBody, by sign: Int) {
        guard let room = roomIndex(body), let first = layout.night(ofDay: body.arrivalDay) else { return }
        for night in first..<(first + body.nights) where night < layout.dayCount {
            let capacity = layout.rooms[room].capacity
            let value = grids.availability[room][night].allotment + sign * body.rooms.count
            grids.availability[room][night].allotment = min(capacity, max(0, value))
            markRoomNightChanged(room: room, night: night)
        }
    }

    private func roomIndex(_ body: BookingBody) -> Int? {
        guard let p = layout.propertyIndex(code: body.property) else { return nil }
        return layout.properties[p].rooms.first { layout.rooms[$0].code == body.roomType }
    }

    private func rateIndex(_ body: BookingBody) -> Int? {
        guard let p = layout.propertyIndex(code: body.property) else { return nil }
        return layout.properties[p].rates.first { layout.rates[$0].id == body.rateID }
    }

    private func nightlyPrices(rate: Int, arrival: Int, nights: Int, adults: Int, children: Int) -> [Int] {
        let occupancies = layout.rates[rate].occupancies
        return (0..<nights).map { i in
            let night = arrival - layout.firstDay + i
            return grids.price(rate: rate, night: night, adults: min(adults, occupancies), occupancies: occupancies)
                + children * grids.rateNights[rate][night].extraChildCents
        }
    }

    private func reprice(_ body: inout BookingBody, rate: Int) {
        for i in body.rooms.indices {
            body.rooms[i].nightlyCents = nightlyPrices(
                rate: rate, arrival: body.arrivalDay, nights: body.nights, adults: body.rooms[i].adults,
                children: body.rooms[i].children)
        }
    }

    // MARK: versions

    /// Returns false for a silent change (the fault): the version exists, but no
    /// queue entry and no webhook may follow it.
    @discardableResult
    private mutating func addVersion(id: Int, body: BookingBody, event: BookingEvent, at time: Int64) -> Bool {
        let number = (bookings[id]?.versions.count ?? 0) + 1
        // Drawn from the booking and version, not the minute's stream, so switching
        // the fault on does not change the rest of the world.
        var silentDraw = SeededGenerator(layout.seed, 11, UInt64(id), UInt64(number))
        let silent = event != .created && silentDraw.chance(faults.silentChangeRate)
        let malformation = Malformation.decide(
            seed: layout.seed, rate: faults.malformedRecordRate, surface: .bookings,
            key: [UInt64(id), UInt64(number)])
        let version = BookingVersion(
            body: body, validFrom: time, validTo: nil, event: event, malformation: malformation)
        if bookings[id] == nil {
            let property = layout.propertyIndex(code: body.property)!
            bookings[id] = BookingRecord(property: property, versions: [version], everSynced: false)
            bookingIDsByProperty[property].append(id)
        } else {
            bookings[id]!.versions[number - 2].validTo = time
            bookings[id]!.versions.append(version)
        }
        if recordsOpenTravel {
            // OpenTravel hears of every change, silent ones included: that fault is WebHotelier's.
            openTravel.record(id: id, hotel: bookings[id]!.property, version: number, event: event, at: time)
        }
        if wantsBookingEvents {
            events.append(
                .bookingVersion(property: bookings[id]!.property, id: id, version: number, event: event, body: body))
        }
        if silent {
            silentChanges.append(ResentNew(id: id, property: bookings[id]!.property, time: time))
            countBehaviourFault("silent_change")
            return false
        }
        if wantsBookingEvents {
            let type = ["created": "new", "modified": "update", "cancelled": "cancel", "restored": "restore"][
                event.rawValue]!
            events.append(
                .booking(
                    property: bookings[id]!.property, id: id, type: type, version: number,
                    body: body.json(malformation: malformation)))
        }
        return true
    }

    private mutating func appendChange(
        _ body: inout BookingBody, type: String, at time: Int64, rng: inout SeededGenerator
    ) {
        let who = [("hotelier", "reception"), ("channel", body.source), ("guest", body.guest.email)][rng.int(0..<3)]
        let change = BookingBody.Change(userType: who.0, userName: who.1, date: time, type: type)
        if !body.changes.isEmpty && rng.chance(faults.outOfOrderChangesRate) {
            body.changes.insert(change, at: 0)
            countBehaviourFault("out_of_order_changes")
        } else {
            body.changes.append(change)
        }
    }

    // MARK: events

    /// A booking made in the month before the start, already synced.
    mutating func createHistoricBooking(property p: Int, rng: inout SeededGenerator) {
        let bookTime = now - Int64(rng.int(3600...(30 * 86400)))
        guard let body = draftBooking(property: p, at: bookTime, rng: &rng) else { return }
        moveAllotment(body, by: -1)
        addVersion(id: body.id, body: body, event: .created, at: bookTime)
        bookings[body.id]!.everSynced = true
    }

    mutating func createBooking(property p: Int, at time: Int64, rng: inout SeededGenerator) {
        guard var body = draftBooking(property: p, at: time, rng: &rng) else { return }
        if body.rooms.count == 2 && body.sourceID != 0 && rng.chance(0.3) {
            // A channel booking split into two WebHotelier bookings sharing external_id.
            var second = body
            second.id = nextBookingID
            nextBookingID += 1
            body.rooms.removeLast()
            second.rooms.removeFirst()
            body.relatedBookings = [second.id]
            second.relatedBookings = [body.id]
            second.bookingCode = "WH\(second.id)"
            for part in [body, second] {
                moveAllotment(part, by: -1)
                addVersion(id: part.id, body: part, event: .created, at: time)
                enqueue(bookingID: part.id, event: .created, at: time)
            }
            return
        }
        moveAllotment(body, by: -1)
        addVersion(id: body.id, body: body, event: .created, at: time)
        enqueue(bookingID: body.id, event: .created, at: time)
    }

    private mutating func draftBooking(property p: Int, at time: Int64, rng: inout SeededGenerator) -> BookingBody? {
        let property = layout.properties[p]
        for _ in 0..<4 {
            let room = rng.int(property.rooms)
            let rate = rng.int(layout.rooms[room].rates)
            let lead = rng.chance(0.6) ? rng.int(1...30) : rng.int(31...200)
            let arrival = Int(time / 86400) + lead
            let nights = rng.chance(0.7) ? rng.int(1...4) : rng.int(5...10)
            let roomCount = rng.chance(0.85) ? 1 : 2
            guard
                canHold(
                    room: room, rate: rate, arrival: arrival, departure: arrival + nights, rooms: roomCount,
                    strict: true)
            else { continue }
            let source = Self.sources[rng.int(0..<Self.sources.count)]
            let id = nextBookingID
            nextBookingID += 1
            let first = Self.firstNames[rng.int(0..<Self.firstNames.count)]
            let last = Self.lastNames[rng.int(0..<Self.lastNames.count)]
            let maxAdults = layout.rooms[room].maxAdults
            var body = BookingBody(
                id: id, externalID: source.id == 0 ? "" : "\(source.prefix)-\(rng.int(100_000_000...999_999_999))",
                property: property.code, confirmed: true, channelStream: source.stream, bookDate: time,
                bookingCode: "WH\(id)", source: source.name, sourceID: source.id, agent: "",
                roomType: layout.rooms[room].code, roomName: layout.rooms[room].name, rateID: layout.rates[rate].id,
                rateName: layout.rates[rate].name, board: layout.rates[rate].board, arrivalDay: arrival,
                departureDay: arrival + nights,
                rooms: (0..<roomCount).map { _ in
                    let adults = rng.int(1...maxAdults)
                    return .init(
                        adults: adults, children: maxAdults > 2 && rng.chance(0.3) ? 1 : 0, infants: 0, nightlyCents: []
                    )
                },
                guest: .init(
                    firstName: first, lastName: last, phone: "+30 210 \(rng.int(1_000_000...9_999_999))",
                    email: "\(first.lowercased()).\(id)@example.com", remarks: rng.chance(0.3) ? "Late arrival" : "",
                    country: Self.countries[rng.int(0..<Self.countries.count)]),
                guestNames: ["\(first) \(last)"], specialRequests: rng.chance(0.2) ? "High floor, please" : "",
                extras: rng.chance(0.2) ? [.init(id: 501, cents: 1500, quantity: nights)] : [],
                currency: property.currency,
                taxPermille: ["EUR": 130, "GBP": 200, "USD": 88, "CHF": 77][property.currency]!,
                minStay: grids.availability[room][arrival - layout.firstDay].minStay, maxStay: 0,
                freeCancelDays: layout.rates[rate].name == "Non-Refundable" ? 0 : rng.int(1...14), relatedBookings: [],
                changes: [])
            reprice(&body, rate: rate)
            return body
        }
        return nil
    }

    mutating func modifyBooking(property p: Int, at time: Int64, rng: inout SeededGenerator) {
        guard let id = pick(property: p, confirmed: true, rng: &rng) else { return }
        let old = bookings[id]!.current
        moveAllotment(old, by: 1)
        var body = old
        let property = layout.properties[p]
        switch rng.int(0...4) {
        case 0:
            let shift = rng.chance(0.5) ? rng.int(1...3) : -rng.int(1...3)
            body.arrivalDay += shift
            body.departureDay += shift
        case 1:
            body.departureDay += body.nights > 1 && rng.chance(0.5) ? -1 : 1
        case 2:
            let room = rng.int(property.rooms)
            let rate = layout.rooms[room].rates.lowerBound
            body.roomType = layout.rooms[room].code
            body.roomName = layout.rooms[room].name
            body.rateID = layout.rates[rate].id
            body.rateName = layout.rates[rate].name
            body.board = layout.rates[rate].board
            for i in body.rooms.indices {
                body.rooms[i].adults = min(body.rooms[i].adults, layout.rooms[room].maxAdults)
            }
        case 3:
            if body.rooms.count == 1 { body.rooms.append(body.rooms[0]) } else { body.rooms.removeLast() }
        default:
            break
        }
        if let room = roomIndex(body), let rate = rateIndex(body),
            canHold(
                room: room, rate: rate, arrival: body.arrivalDay, departure: body.departureDay, rooms: body.rooms.count,
                strict: false)
        {
            reprice(&body, rate: rate)
        } else {
            body = old
        }
        if body == old {
            // Nothing else fits: the amount changes (a discount or a supplement).
            let percent = rng.chance(0.5) ? rng.int(85...95) : rng.int(105...115)
            for i in body.rooms.indices {
                body.rooms[i].nightlyCents = body.rooms[i].nightlyCents.map { $0 * percent / 100 }
            }
        }
        appendChange(&body, type: "modify", at: time, rng: &rng)
        moveAllotment(body, by: -1)
        if addVersion(id: id, body: body, event: .modified, at: time) {
            enqueue(bookingID: id, event: .modified, at: time)
        }
    }

    mutating func cancelBooking(property p: Int, at time: Int64, rng: inout SeededGenerator) {
        guard let id = pick(property: p, confirmed: true, rng: &rng) else { return }
        var body = bookings[id]!.current
        body.confirmed = false
        appendChange(&body, type: "cancel", at: time, rng: &rng)
        moveAllotment(body, by: 1)
        if addVersion(id: id, body: body, event: .cancelled, at: time) {
            enqueue(bookingID: id, event: .cancelled, at: time)
        }
    }

    mutating func restoreBooking(property p: Int, at time: Int64, rng: inout SeededGenerator) {
        guard let id = pick(property: p, confirmed: false, rng: &rng) else { return }
        var body = bookings[id]!.current
        guard let room = roomIndex(body), let rate = rateIndex(body),
            canHold(
                room: room, rate: rate, arrival: body.arrivalDay, departure: body.departureDay, rooms: body.rooms.count,
                strict: false)
        else { return }
        body.confirmed = true
        appendChange(&body, type: "restore", at: time, rng: &rng)
        moveAllotment(body, by: -1)
        if addVersion(id: id, body: body, event: .restored, at: time) {
            enqueue(bookingID: id, event: .restored, at: time)
        }
    }

    /// The behaviour fault: a booking already synced shows up again as NEW, unchanged.
    mutating func resendAsNew(property p: Int, at time: Int64, rng: inout SeededGenerator) {
        let synced = bookingIDsByProperty[p].filter { bookings[$0]!.everSynced && queues[p][$0] == nil }
        guard !synced.isEmpty else { return }
        let id = synced[rng.int(0..<synced.count)]
        let record = bookings[id]!
        queues[p][id] = SyncQueueEntry(
            id: id, timestamp: time, syncType: "NEW", listed: false, versionCount: record.versions.count)
        resentNew.append(ResentNew(id: id, property: p, time: time))
        countBehaviourFault("resent_new")
        if wantsBookingEvents {
            let version = record.versions[record.versions.count - 1]
            events.append(
                .booking(
                    property: p, id: id, type: "new", version: record.versions.count,
                    body: version.body.json(malformation: version.malformation)))
        }
    }

    /// A random booking of the property with a future arrival and the given status.
    private func pick(property p: Int, confirmed: Bool, rng: inout SeededGenerator) -> Int? {
        let ids = bookingIDsByProperty[p]
        guard !ids.isEmpty else { return nil }
        for _ in 0..<6 {
            let id = ids[rng.int(0..<ids.count)]
            let body = bookings[id]!.current
            if body.confirmed == confirmed && body.arrivalDay > today + 1 { return id }
        }
        return nil
    }
}
