import Foundation

/// What a correct client must end up with, read straight from the world.
extension WorldState {
    func accounts() -> [PropertyAccount] {
        layout.properties.map { p in
            PropertyAccount(
                code: p.code, name: p.name, username: p.username, password: p.password, currency: p.currency,
                timeZone: p.timeZone,
                rooms: p.rooms.map {
                    let r = layout.rooms[$0]
                    return .init(code: r.code, name: r.name, maxAdults: r.maxAdults, capacity: r.capacity)
                },
                rates: p.rates.map {
                    let r = layout.rates[$0]
                    return .init(
                        id: r.id, room: layout.rooms[r.room].code, name: r.name, board: r.board,
                        maxAdults: r.occupancies)
                })
        }
    }

    private func properties(_ code: String?) -> [Int] {
        guard let code else { return Array(layout.properties.indices) }
        return layout.propertyIndex(code: code).map { [$0] } ?? []
    }

    func bookingVersions(property code: String?) -> [BookingVersionTruth] {
        var result: [BookingVersionTruth] = []
        for p in properties(code) {
            for id in bookingIDsByProperty[p] {
                for (i, v) in bookings[id]!.versions.enumerated() {
                    result.append(
                        BookingVersionTruth(
                            bookingID: id, version: i + 1, property: layout.properties[p].code,
                            validFrom: Date(timeIntervalSince1970: TimeInterval(v.validFrom)),
                            validTo: v.validTo.map { Date(timeIntervalSince1970: TimeInterval($0)) },
                            otaTime: Date(timeIntervalSince1970: TimeInterval(v.body.otaTime)), event: v.event,
                            status: v.body.confirmed ? 1 : 0, malformation: v.malformation, body: v.body.json()))
                }
            }
        }
        return result
    }

    func availability(property code: String?, nights: Range<Int>) -> [AvailabilityTruth] {
        var result: [AvailabilityTruth] = []
        for p in properties(code) {
            for room in layout.properties[p].rooms {
                for night in nights {
                    let a = grids.availability[room][night]
                    result.append(
                        AvailabilityTruth(
                            property: layout.properties[p].code, room: layout.rooms[room].code,
                            date: CivilCalendar.dateString(days: layout.firstDay + night), allotment: a.allotment,
                            stopSell: a.stopSell, minStay: a.minStay, maxStay: a.maxStay,
                            closedToArrival: a.closedToArrival, closedToDeparture: a.closedToDeparture))
                }
            }
        }
        return result
    }

    func rates(property code: String?, nights: Range<Int>) -> [RateTruth] {
        var result: [RateTruth] = []
        for p in properties(code) {
            for rate in layout.properties[p].rates {
                let r = layout.rates[rate]
                for night in nights {
                    let n = grids.rateNights[rate][night]
                    for adults in 1...r.occupancies {
                        result.append(
                            RateTruth(
                                property: layout.properties[p].code, rateID: r.id, room: layout.rooms[r.room].code,
                                date: CivilCalendar.dateString(days: layout.firstDay + night), adults: adults,
                                children: 0,
                                priceCents: grids.price(
                                    rate: rate, night: night, adults: adults, occupancies: r.occupancies),
                                currency: layout.properties[p].currency, extraAdultCents: n.extraAdultCents,
                                extraChildCents: n.extraChildCents, closeout: n.closeout, minStay: n.minStay))
                    }
                }
            }
        }
        return result
    }

    func inventory(property code: String?) -> [InventoryRecordTruth] {
        var result: [InventoryRecordTruth] = []
        for p in properties(code) {
            guard let first = layout.properties[p].rates.first, let last = layout.properties[p].rates.last else {
                continue
            }
            let cells =
                layout.rates[first]
                .feedBase..<(layout.rates[last].feedBase + layout.rates[last].occupancies * layout.dayCount)
            for cell in cells {
                let v = feed.versions[Int(feed.current[cell])]
                let c = layout.cell(cell)
                let rate = layout.rates[c.rate]
                result.append(
                    InventoryRecordTruth(
                        id: layout.cellID(cell), property: layout.properties[p].code,
                        room: layout.rooms[rate.room].code,
                        ratePlan: String(rate.id), stayDate: CivilCalendar.dateString(days: layout.firstDay + c.night),
                        adults: c.adults, priceCents: Int(v.priceCents) + cursorFeedPriceOffsetCents,
                        currency: layout.properties[p].currency,
                        available: Int(v.available),
                        updatedAt: Date(timeIntervalSince1970: TimeInterval(Int64(v.updatedMinute) * 60))))
            }
        }
        return result
    }

    func malformedRecords() -> [MalformedRecord] {
        var result: [MalformedRecord] = []
        for p in layout.properties.indices {
            let code = layout.properties[p].code
            for id in bookingIDsByProperty[p] {
                for (i, v) in bookings[id]!.versions.enumerated() {
                    guard let kind = v.malformation else { continue }
                    result.append(
                        MalformedRecord(
                            surface: .bookings, kind: kind, detail: Malformation.describe(kind, surface: .bookings),
                            property: code, bookingID: id, version: i + 1))
                }
            }
            for room in layout.properties[p].rooms {
                for night in 0..<layout.dayCount {
                    guard let kind = availabilityMalformation(room: room, night: night) else { continue }
                    result.append(
                        MalformedRecord(
                            surface: .availability, kind: kind,
                            detail: Malformation.describe(kind, surface: .availability),
                            property: code, room: layout.rooms[room].code,
                            date: CivilCalendar.dateString(days: layout.firstDay + night)))
                }
            }
            for rate in layout.properties[p].rates {
                for night in 0..<layout.dayCount {
                    guard let kind = rateMalformation(rate: rate, night: night) else { continue }
                    result.append(
                        MalformedRecord(
                            surface: .rates, kind: kind, detail: Malformation.describe(kind, surface: .rates),
                            property: code, rateID: layout.rates[rate].id,
                            date: CivilCalendar.dateString(days: layout.firstDay + night)))
                }
                let r = layout.rates[rate]
                for cell in r.feedBase..<(r.feedBase + r.occupancies * layout.dayCount) {
                    guard let kind = inventoryMalformation(cell: cell) else { continue }
                    result.append(
                        MalformedRecord(
                            surface: .inventory, kind: kind, detail: Malformation.describe(kind, surface: .inventory),
                            property: code, recordID: layout.cellID(cell)))
                }
            }
        }
        return result
    }

    func availabilityMalformation(room: Int, night: Int) -> MalformationKind? {
        Malformation.decide(
            seed: layout.seed, rate: faults.malformedRecordRate, surface: .availability,
            key: [UInt64(room), UInt64(night)])
    }

    func rateMalformation(rate: Int, night: Int) -> MalformationKind? {
        Malformation.decide(
            seed: layout.seed, rate: faults.malformedRecordRate, surface: .rates, key: [UInt64(rate), UInt64(night)])
    }

    func inventoryMalformation(cell: Int) -> MalformationKind? {
        Malformation.decide(
            seed: layout.seed, rate: faults.malformedRecordRate, surface: .inventory, key: [UInt64(cell)])
    }
}
