/// The parts of the world that never change after generation: properties, rooms,
/// rates, the stay-date horizon and the numbering of cursor-feed cells. Being
/// immutable it is read without the world's lock (the feed encoder relies on that).
final class WorldLayout: Sendable {
    struct Property: Sendable {
        var code: String
        var name: String
        var username: String
        var password: String
        var currency: String
        var timeZone: String
        /// Indices into `rooms`, sorted by room code.
        var rooms: Range<Int>
        /// Indices into `rates`, grouped by room and sorted by id within it.
        var rates: Range<Int>
    }

    struct Room: Sendable {
        var property: Int
        var code: String
        var name: String
        var maxAdults: Int
        var capacity: Int
        var rates: Range<Int>
    }

    struct Rate: Sendable {
        var id: Int
        var property: Int
        var room: Int
        var name: String
        var board: String
        /// First feed cell of this rate; cells run night-major, adults-minor.
        var feedBase: Int
        var occupancies: Int
    }

    let seed: UInt64
    let properties: [Property]
    let rooms: [Room]
    let rates: [Rate]
    /// Day number (since 1970-01-01) of the first stay date.
    let firstDay: Int
    let dayCount: Int
    let feedCellCount: Int
    let propertyCodeBytes: [[UInt8]]
    let roomCodeBytes: [[UInt8]]
    let rateIDBytes: [[UInt8]]
    let currencyBytes: [[UInt8]]
    let dateBytes: [[UInt8]]
    let propertyByCode: [String: Int]
    /// Per rate, the constant parts of its feed records, so the encoder writes a
    /// record in a dozen copies (`{"id":"P:R:RATE:`, then `","property_id":...,"stay_date":"`).
    let feedIDPrefix: [[UInt8]]
    let feedMiddle: [[UInt8]]
    let feedCurrency: [[UInt8]]
    /// `feedBase` of each rate, apart from the structs, for the encoder's binary search.
    let rateFeedBases: [Int]

    init(seed: UInt64, properties: [Property], rooms: [Room], rates: [Rate], firstDay: Int, dayCount: Int) {
        self.seed = seed
        self.properties = properties
        self.rooms = rooms
        self.rates = rates
        self.firstDay = firstDay
        self.dayCount = dayCount
        self.feedCellCount = rates.last.map { $0.feedBase + $0.occupancies * dayCount } ?? 0
        propertyByCode = Dictionary(uniqueKeysWithValues: properties.enumerated().map { ($1.code, $0) })
        propertyCodeBytes = properties.map { Array($0.code.utf8) }
        roomCodeBytes = rooms.map { Array($0.code.utf8) }
        rateIDBytes = rates.map { Array(String($0.id).utf8) }
        currencyBytes = properties.map { Array($0.currency.utf8) }
        feedIDPrefix = rates.map { r in
            Array("{\"id\":\"\(properties[r.property].code):\(rooms[r.room].code):\(r.id):".utf8)
        }
        feedMiddle = rates.map { r in
            let p = properties[r.property].code
            return Array(
                "\",\"property_id\":\"\(p)\",\"room_code\":\"\(rooms[r.room].code)\",\"rate_plan_code\":\"\(r.id)\",\"stay_date\":\""
                    .utf8)
        }
        feedCurrency = rates.map { Array(",\"currency\":\"\(properties[$0.property].currency)\"".utf8) }
        rateFeedBases = rates.map(\.feedBase)
        dateBytes = (0..<dayCount).map { offset in
            var out: [UInt8] = []
            CivilCalendar.appendDate(days: firstDay + offset, to: &out)
            return out
        }
    }

    /// A feed cell: one rate, one night, one occupancy.
    struct Cell {
        var rate: Int
        var night: Int
        var adults: Int
    }

    /// Cells are numbered in the order of their ids (property, room, rate, date, adults
    /// compare the same as numbers and as text), so ordering by cell is ordering by id.
    func cell(_ index: Int) -> Cell {
        var lo = 0
        var hi = rateFeedBases.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if rateFeedBases[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        let rest = index - rateFeedBases[lo]
        let occupancies = rates[lo].occupancies
        return Cell(rate: lo, night: rest / occupancies, adults: rest % occupancies + 1)
    }

    func cellIndex(rate: Int, night: Int, adults: Int) -> Int {
        rates[rate].feedBase + night * rates[rate].occupancies + adults - 1
    }

    func cellID(_ index: Int) -> String {
        let c = cell(index)
        let rate = rates[c.rate]
        return "\(properties[rate.property].code):\(rooms[rate.room].code):\(rate.id):"
            + "\(CivilCalendar.dateString(days: firstDay + c.night)):\(c.adults)"
    }

    func propertyIndex(code: String) -> Int? {
        propertyByCode[code]
    }

    func night(ofDay day: Int) -> Int? {
        let n = day - firstDay
        return n >= 0 && n < dayCount ? n : nil
    }
}
