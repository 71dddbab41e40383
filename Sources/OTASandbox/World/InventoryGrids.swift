/// One room on one night, as /manage/availability reports it.
struct AvailabilityNight: Equatable, Sendable {
    var allotment: Int
    var stopSell: Bool
    var minStay: Int
    /// 0 means no maximum.
    var maxStay: Int
    var closedToArrival: Bool
    var closedToDeparture: Bool
}

/// One rate on one night, apart from its per-occupancy prices.
struct RateNight: Equatable, Sendable {
    var closeout: Bool
    var minStay: Int
    var extraAdultCents: Int
    var extraChildCents: Int
}

/// The mutable grids: availability per room and night, restrictions and prices per
/// rate and night (prices per occupancy, flattened night-major like feed cells).
struct InventoryGrids: Sendable {
    var availability: [[AvailabilityNight]]
    var rateNights: [[RateNight]]
    var prices: [[Int]]

    func price(rate: Int, night: Int, adults: Int, occupancies: Int) -> Int {
        prices[rate][night * occupancies + adults - 1]
    }
}
