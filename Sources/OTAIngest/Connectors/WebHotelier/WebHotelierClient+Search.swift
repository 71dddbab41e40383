import Foundation

extension WebHotelierClient {
    /// One page of the paginated booking search with full bodies (verbose=2), oldest
    /// modification first: the authoritative read reconciliation compares with.
    /// `filter` is one of the search's ranges, e.g. ("last_mod_fromd", time).
    public func searchFullBodies(filter: (String, String), page: Int, rows: Int) async throws -> (
        envelope: Envelope, bookings: [(id: Int, body: Range<Int>)], total: Int
    ) {
        let envelope = try await get(
            "/reservation",
            query: [
                filter, ("order", "ASC"), ("verbose", "2"), ("maxrows", String(rows)), ("pageNo", String(page)),
                ("property", account.propertyCode),
            ], what: "search reservations by \(filter.0) \(filter.1) (page \(page))")
        let (bookings, total) = try envelope.read { scanner, data in
            var found: [(id: Int, body: Range<Int>)] = []
            let total = try scanner.member("total", of: data).map(scanner.int) ?? 0
            if let reservations = try scanner.member("reservations", of: data) {
                try scanner.elements(of: reservations) { entry in
                    // A malformed body may carry its id as anything; the id is what keys the booking.
                    if let id = try scanner.member("id", of: entry), let number = try? scanner.int(id) {
                        found.append((number, entry.range))
                    }
                }
            }
            return (found, total)
        }
        return (envelope, bookings, total)
    }
}
