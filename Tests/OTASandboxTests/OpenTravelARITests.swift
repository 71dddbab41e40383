import Foundation
import OTASandbox
import Testing

/// ARI pushes (`OTA_HotelAvailNotifRQ`, `OTA_HotelRateAmountNotifRQ`): the same seed gives
/// the same bytes, every fault kind is sent, and the truth grid is what a plain reading
/// of the delivered messages gives.
@Suite struct OpenTravelARITests {
    private static func configure(_ c: inout SandboxConfiguration, url: String, envelope: WebhookRegistration.Envelope)
    {
        c.propertyCount = 2
        c.activity.newBooking = 0
        c.openTravel.pushRetryIntervalMilliseconds = 2
        c.openTravel.pushMaxAttempts = 3
        c.webhooks = [
            WebhookRegistration(mode: .opentravelARI, url: url, username: "cm", password: "pw", envelope: envelope)
        ]
    }

    /// A flush and 250 deltas; one oversize body just past what the test receiver reads (4 MiB).
    private static var plan: OpenTravelARIPlan {
        var plan = OpenTravelARIPlan()
        plan.flush = true
        plan.deltas = 250
        plan.oversize = 1
        plan.oversizeBytes = (1 << 22) + 1024
        plan.unknownHotelRate = 0.03
        plan.wrongGuestCountRate = 0.05
        plan.unknownCodeRate = 0.08
        plan.repeatRate = 0.08
        return plan
    }

    @Test func sameSeedSameBytesEveryFaultAndTheGridIsThePlainReading() async throws {
        let receiver = OpenTravelReceiver()
        let port = try await receiver.start()
        let hook = "http://127.0.0.1:\(port)"
        try await withSandbox({ Self.configure(&$0, url: "\(hook)/again", envelope: .soap) }) { server, _ in
            server.pushOpenTravelARI(Self.plan)
            await server.waitForOpenTravelARI()
        }
        try await withSandbox({ Self.configure(&$0, url: "\(hook)/ari", envelope: .soap) }) { server, _ in
            let queued = server.pushOpenTravelARI(Self.plan)
            #expect(queued == 4 + 250)
            await server.waitForOpenTravelARI()
            let received = await receiver.requests
            let bodies = received.filter { $0.path == "/ari" }.map(\.body)
            #expect(!bodies.isEmpty && bodies == received.filter { $0.path == "/again" }.map(\.body))

            let pushes = server.openTravelARIPushes()
            var seen = Set<String>()
            for push in pushes { seen.formUnion(push.faults.map(\.rawValue)) }
            #expect(seen == Set(OpenTravelARIFault.allCases.map(\.rawValue)))
            // The oversize body never got through; everything else was delivered, once or (repeats) twice.
            let oversize = pushes.filter { $0.faults.contains(.oversize) }
            #expect(oversize.count == 1 && oversize.allSatisfy { $0.outcome == .failed && $0.attempts.count == 3 })
            #expect(pushes.filter { !$0.faults.contains(.oversize) }.allSatisfy { $0.outcome == .delivered })
            #expect(bodies.count == pushes.count - 1)
            let flush = pushes.filter { $0.faults.contains(.flush) }
            #expect(flush.count == 4 && flush.allSatisfy { $0.messages > 100 })

            // Auth and envelope as the reservation pushes.
            for r in received where r.path == "/ari" {
                #expect(r.headers["authorization"] == nil && r.headers["content-type"] == "text/xml; charset=utf-8")
                let root = try #require(Self.document(r.body).first?.name)
                #expect(r.headers["soapaction"] == "\"\(root)\"")
                #expect(String(decoding: r.body, as: UTF8.self).contains(">cm</wsse:Username><wsse:Password"))
            }

            let expected = Self.plainReading(bodies, layout: Self.layout(server))
            let grid = server.openTravelARIGrid()
            #expect(grid.count == expected.count)
            let difference = zip(grid, expected).first { $0 != $1 }.map { "sandbox \($0.0)\nplain \($0.1)" }
            #expect(difference == nil, "first difference: \(difference ?? "")")
            #expect(grid.contains { $0.room == "" } && grid.contains { $0.rate == "" })
            #expect(grid.contains { $0.hotel == "HTLX99" })
            #expect(Set(grid.compactMap(\.minStayKind)) == ["through", "arrival"])
            // The flush reaches 750 nights ahead.
            let dates = Set(grid.map(\.date))
            #expect(dates.count >= 750)
        }
        await receiver.stop()
    }

    // MARK: the plain reading

    private struct Layout {
        /// hotel -> room -> (rates, capacity)
        var rooms: [String: [String: (rates: [String], capacity: Int)]]
    }

    private static func layout(_ server: SandboxServer) -> Layout {
        var rooms: [String: [String: (rates: [String], capacity: Int)]] = [:]
        for cell in server.rateGrid() {
            var entry = rooms[cell.property, default: [:]][cell.room, default: ([], 0)]
            if !entry.rates.contains(String(cell.rateID)) { entry.rates.append(String(cell.rateID)) }
            entry.capacity = max(entry.capacity, cell.adults)
            rooms[cell.property, default: [:]][cell.room] = entry
        }
        return Layout(rooms: rooms)
    }

    private static func document(_ body: Data) -> [ParsedXML.Element] {
        guard let xml = ParsedXML(body) else { return [] }
        guard xml.elements.first?.name == "Envelope" else { return xml.elements }
        guard let b = xml.elements.firstIndex(where: { $0.name == "Body" }) else { return [] }
        return Array(xml.elements[(b + 1)...])
    }

    private static func day(_ text: String?) -> Int {
        let parts = (text ?? "").split(separator: "-").compactMap { Int($0) }
        let date = DateComponents(
            calendar: Calendar(identifier: .gregorian), timeZone: TimeZone(identifier: "UTC"), year: parts[0],
            month: parts[1], day: parts[2]
        ).date!
        return Int(date.timeIntervalSince1970 / 86_400)
    }

    private static func cents(_ text: String?) -> Int {
        Int(((Double(text ?? "") ?? .nan) * 100).rounded())
    }

    /// Each distinct message (by EchoToken) once, in the order received.
    private static func plainReading(_ bodies: [Data], layout: Layout) -> [OpenTravelARICellTruth] {
        struct Key: Hashable {
            var hotel, room, rate: String
            var day: Int
        }
        var cells: [Key: OpenTravelARICellTruth] = [:]
        var echoes = Set<String>()
        let weekdays = [["Mon"], ["Tue"], ["Weds", "Wed"], ["Thur", "Thu"], ["Fri"], ["Sat"], ["Sun"]]
        for body in bodies {
            let elements = document(body)
            guard let root = elements.first, echoes.insert(root.attributes["EchoToken"] ?? "").inserted else {
                continue
            }
            var hotel = ""
            var i = 0
            // (room, rate, capacity) for a control.
            func targets(_ c: [String: String]) -> [(String, String, Int?)] {
                let room = c["InvTypeCode"] ?? c["InvCode"]
                let rate = c["RatePlanCode"]
                guard let rooms = layout.rooms[hotel] else {
                    if let room, let rate { return [(room, rate, nil)] }
                    if let room { return [(room, "", nil)] }
                    if let rate { return [("", rate, nil)] }
                    return []
                }
                if let room, let rate { return [(room, rate, rooms[room]?.capacity)] }
                if let room {
                    guard let known = rooms[room] else { return [(room, "", nil)] }
                    return known.rates.map { (room, $0, known.capacity) }
                }
                if let rate {
                    guard let (r, known) = rooms.first(where: { $0.value.rates.contains(rate) }) else {
                        return [("", rate, nil)]
                    }
                    return [(r, rate, known.capacity)]
                }
                return rooms.flatMap { r, known in known.rates.map { (r, $0, known.capacity) } }
            }
            func nights(_ c: [String: String]) -> [Int] {
                let flags = weekdays.map { names in names.compactMap { c[$0] }.first.map { $0 == "true" } ?? true }
                return (day(c["Start"])...day(c["End"])).filter { flags[($0 + 3) % 7] }
            }
            // `room`: availability named for a room without a rate plan sets the room's own cell too.
            func update(
                _ c: [String: String], room: Bool = false, _ change: (inout OpenTravelARICellTruth, Int?) -> Void
            ) {
                var all = targets(c)
                if room, let code = c["InvTypeCode"] ?? c["InvCode"], c["RatePlanCode"] == nil,
                    !all.contains(where: { $0.1 == "" })
                {
                    all.append((code, "", nil))
                }
                for (room, rate, capacity) in all {
                    for night in nights(c) {
                        let key = Key(hotel: hotel, room: room, rate: rate, day: night)
                        var cell =
                            cells[key]
                            ?? OpenTravelARICellTruth(
                                hotel: hotel, room: room, rate: rate,
                                date: ISO8601DateFormatter.string(
                                    from: Date(timeIntervalSince1970: Double(night) * 86_400),
                                    timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate]),
                                prices: [])
                        change(&cell, capacity)
                        cells[key] = cell
                    }
                }
            }
            while i < elements.count {
                let e = elements[i]
                switch e.name {
                case "AvailStatusMessages", "RateAmountMessages": hotel = e.attributes["HotelCode"] ?? ""
                case "AvailStatusMessage":
                    let limit = e.attributes["BookingLimit"].flatMap { Int($0) }
                    let children = elements[(i + 1)...].prefix { $0.depth > e.depth }
                    let control = children.first { $0.name == "StatusApplicationControl" }!.attributes
                    let status = children.first { $0.name == "RestrictionStatus" }?.attributes
                    let stay = children.first { $0.name == "LengthOfStay" }?.attributes
                    update(control, room: true) { cell, _ in
                        if let limit { cell.bookingLimit = limit }
                        if let status {
                            let closed = status["Status"] == "Close"
                            switch status["Restriction"] ?? "Master" {
                            case "Arrival": cell.closedToArrival = closed
                            case "Departure": cell.closedToDeparture = closed
                            default: cell.stopSell = closed
                            }
                        }
                        if let stay, let time = Int(stay["Time"] ?? "") {
                            switch stay["MinMaxMessageType"] {
                            case "SetMaxLOS": cell.maxStay = time
                            case "SetForwardMinStay": (cell.minStay, cell.minStayKind) = (time, "arrival")
                            default: (cell.minStay, cell.minStayKind) = (time, "through")
                            }
                        }
                    }
                    i += children.count
                case "RateAmountMessage":
                    let children = elements[(i + 1)...].prefix { $0.depth > e.depth }
                    let control = children.first { $0.name == "StatusApplicationControl" }!.attributes
                    let rateCurrency = children.first { $0.name == "Rate" }?.attributes["CurrencyCode"]
                    let amounts = children.filter { $0.name == "BaseByGuestAmt" }.map { a in
                        OpenTravelARICellTruth.Price(
                            guests: Int(a.attributes["NumberOfGuests"]!)!,
                            cents: cents(a.attributes["AmountAfterTax"] ?? a.attributes["AmountBeforeTax"]),
                            currency: a.attributes["CurrencyCode"] ?? rateCurrency ?? "",
                            afterTax: a.attributes["AmountAfterTax"] != nil)
                    }
                    let extra = children.first { $0.name == "AdditionalGuestAmount" }.map {
                        cents($0.attributes["Amount"])
                    }
                    update(control) { cell, capacity in
                        var prices = Dictionary(cell.prices.map { ($0.guests, $0) }, uniquingKeysWith: { $1 })
                        for a in amounts { prices[a.guests] = a }
                        if let extra, let capacity, let top = amounts.max(by: { $0.guests < $1.guests }),
                            top.guests < capacity
                        {
                            for g in (top.guests + 1)...capacity {
                                var p = top
                                p.guests = g
                                p.cents = top.cents + extra * (g - top.guests)
                                prices[g] = p
                            }
                        }
                        cell.prices = prices.keys.sorted().map { prices[$0]! }
                    }
                    i += children.count
                default: break
                }
                i += 1
            }
        }
        return cells.keys.sorted { ($0.hotel, $0.room, $0.rate, $0.day) < ($1.hotel, $1.room, $1.rate, $1.day) }.map {
            cells[$0]!
        }
    }
}
