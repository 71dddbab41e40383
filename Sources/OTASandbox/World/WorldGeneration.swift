import Foundation

/// Builds the world a seed names: properties, rooms, rates and their initial grids.
/// Every draw comes from a stream keyed by (seed, purpose, index), so adding a
/// property never changes the ones before it.
enum WorldGeneration {
    private static let roomCatalog: [(code: String, name: String, maxAdults: Int, baseEuros: Int)] = [
        ("APT", "Apartment", 4, 160), ("DBL", "Double Room", 2, 90), ("FAM", "Family Room", 4, 150),
        ("SGL", "Single Room", 1, 60), ("STE", "Junior Suite", 3, 180), ("STU", "Studio", 2, 80),
        ("TRP", "Triple Room", 3, 120), ("TWN", "Twin Room", 2, 90),
    ]
    private static let rateCatalog: [(name: String, board: String, factor: Double)] = [
        ("Standard Rate", "RO", 1.0), ("Bed & Breakfast", "BB", 1.12),
        ("Non-Refundable", "RO", 0.9), ("Half Board", "HB", 1.3),
    ]
    private static let markets: [(currency: String, zone: String, fx: Double)] = [
        ("EUR", "Europe/Athens", 1), ("EUR", "Europe/Rome", 1), ("EUR", "Europe/Madrid", 1),
        ("GBP", "Europe/London", 0.85), ("USD", "America/New_York", 1.1), ("CHF", "Europe/Zurich", 0.95),
    ]
    private static let nameWords = [
        "Aegean", "Olive", "Harbour", "Cypress", "Lighthouse", "Vineyard", "Marble", "Sunset", "Pine", "Coral",
    ]
    private static let nameKinds = ["Hotel", "Suites", "Resort", "Inn", "Villas"]

    /// Days of stay dates from the start date on.
    static let horizonDays = 400

    static func makeLayout(configuration: SandboxConfiguration) -> (WorldLayout, [Double]) {
        let seed = configuration.seed
        let count = configuration.propertyCount
        let width = max(3, String(count).count)
        let firstDay = Int((configuration.startTime.timeIntervalSince1970 / 86400).rounded(.down))
        var properties: [WorldLayout.Property] = []
        var rooms: [WorldLayout.Room] = []
        var rates: [WorldLayout.Rate] = []
        var priceFactors: [Double] = []
        var feedBase = 0
        for p in 0..<count {
            var rng = SeededGenerator(seed, 1, UInt64(p))
            let number = String(p + 1)
            let code = "HTL" + String(repeating: "0", count: width - number.count) + number
            let market = markets[rng.int(0..<markets.count)]
            let name = "\(nameWords[rng.int(0..<nameWords.count)]) \(nameKinds[rng.int(0..<nameKinds.count)]) \(p + 1)"
            let factor = Double(rng.int(70...160)) / 100 * market.fx
            let picked = roomCatalog.indices.shuffled(using: &rng).prefix(rng.int(2...4)).sorted()
            let roomStart = rooms.count
            let rateStart = rates.count
            for catalogIndex in picked {
                let kind = roomCatalog[catalogIndex]
                let roomRateStart = rates.count
                let rateKinds = rateCatalog.indices.shuffled(using: &rng).prefix(rng.int(1...2)).sorted()
                for rateKind in rateKinds {
                    // Ids grow with the global index, so within a room they sort numerically and as text.
                    let id = 20000 + rates.count * 3 + rng.int(0...2)
                    rates.append(
                        .init(
                            id: id, property: p, room: rooms.count, name: rateCatalog[rateKind].name,
                            board: rateCatalog[rateKind].board, feedBase: feedBase, occupancies: kind.maxAdults))
                    priceFactors.append(factor * Double(kind.baseEuros) * rateCatalog[rateKind].factor)
                    feedBase += kind.maxAdults * horizonDays
                }
                rooms.append(
                    .init(
                        property: p, code: kind.code, name: kind.name, maxAdults: kind.maxAdults,
                        capacity: rng.int(2...12), rates: roomRateStart..<rates.count))
            }
            let userTag = String(StableHash.combine([seed, 2, UInt64(p)]) & 0xFFFF, radix: 16)
            let password = String(StableHash.combine([seed, 3, UInt64(p)]), radix: 16)
            properties.append(
                .init(
                    code: code, name: name, username: "\(code.lowercased())-\(userTag)", password: password,
                    currency: market.currency, timeZone: market.zone, rooms: roomStart..<rooms.count,
                    rates: rateStart..<rates.count))
        }
        let layout = WorldLayout(
            seed: seed, properties: properties, rooms: rooms, rates: rates, firstDay: firstDay,
            dayCount: horizonDays)
        return (layout, priceFactors)
    }

    static func makeGrids(layout: WorldLayout, priceFactors: [Double]) -> InventoryGrids {
        let seed = layout.seed
        var availability: [[AvailabilityNight]] = []
        for (r, room) in layout.rooms.enumerated() {
            var rng = SeededGenerator(seed, 4, UInt64(r))
            availability.append(
                (0..<layout.dayCount).map { _ in
                    AvailabilityNight(
                        allotment: max(0, room.capacity - rng.int(0...2)), stopSell: rng.chance(0.02),
                        minStay: rng.chance(0.15) ? rng.int(2...3) : 1, maxStay: rng.chance(0.05) ? 14 : 0,
                        closedToArrival: rng.chance(0.03), closedToDeparture: rng.chance(0.02))
                })
        }
        var rateNights: [[RateNight]] = []
        var prices: [[Int]] = []
        for (i, rate) in layout.rates.enumerated() {
            var rng = SeededGenerator(seed, 5, UInt64(i))
            let base = priceFactors[i]
            rateNights.append(
                (0..<layout.dayCount).map { _ in
                    RateNight(
                        closeout: rng.chance(0.02), minStay: rng.chance(0.1) ? 2 : 1,
                        extraAdultCents: Int(base * 20).roundedToFive, extraChildCents: Int(base * 10).roundedToFive)
                })
            var row: [Int] = []
            row.reserveCapacity(layout.dayCount * rate.occupancies)
            for night in 0..<layout.dayCount {
                let day = layout.firstDay + night
                let season = 1 + 0.25 * sin(2 * Double.pi * Double(day % 365 - 150) / 365)
                let weekday = (day + 4) % 7
                let weekend = weekday == 5 || weekday == 6 ? 1.1 : 1.0
                for adults in 1...rate.occupancies {
                    let occupancy = 0.75 + 0.25 * Double(adults)
                    let cents = Int(base * season * weekend * occupancy * 100) + rng.int(0...99)
                    row.append(cents)
                }
            }
            prices.append(row)
        }
        return InventoryGrids(availability: availability, rateNights: rateNights, prices: prices)
    }
}

extension Int {
    /// Rounds cents to a multiple of five, as hoteliers price supplements.
    fileprivate var roundedToFive: Int { self / 5 * 5 }
}
