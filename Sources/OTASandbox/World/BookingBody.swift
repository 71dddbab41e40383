/// A booking as WebHotelier's /reservation/{id} describes it. The sandbox keeps its
/// own model (not the client's) so a misreading of the API cannot hide on both sides.
struct BookingBody: Sendable, Equatable {
    struct Room: Sendable, Equatable {
        var adults: Int
        var children: Int
        var infants: Int
        /// Price with tax of each night, in cents.
        var nightlyCents: [Int]
    }

    struct Guest: Sendable, Equatable {
        var firstName: String
        var lastName: String
        var phone: String
        var email: String
        var remarks: String
        var country: String
    }

    struct Extra: Sendable, Equatable {
        var id: Int
        var cents: Int
        var quantity: Int
    }

    struct Change: Sendable, Equatable {
        var userType: String
        var userName: String
        var date: Int64
        var type: String
    }

    var id: Int
    var externalID: String
    var property: String
    var confirmed: Bool
    var channelStream: String
    var bookDate: Int64
    var bookingCode: String
    var source: String
    var sourceID: Int
    var agent: String
    var roomType: String
    var roomName: String
    var rateID: Int
    var rateName: String
    var board: String
    var arrivalDay: Int
    var departureDay: Int
    var rooms: [Room]
    var guest: Guest
    var guestNames: [String]
    var specialRequests: String
    var extras: [Extra]
    var currency: String
    var taxPermille: Int
    var minStay: Int
    var maxStay: Int
    var freeCancelDays: Int
    var relatedBookings: [Int]
    var changes: [Change]

    /// The dialect's version time: the latest change date, else the booking date.
    var otaTime: Int64 { changes.map(\.date).max() ?? bookDate }

    var nights: Int { departureDay - arrivalDay }

    var roomsWithTaxCents: Int { rooms.reduce(0) { $0 + $1.nightlyCents.reduce(0, +) } }

    var extrasCents: Int { extras.reduce(0) { $0 + $1.cents * $1.quantity } }

    func withoutTax(_ cents: Int) -> Int {
        (cents * 1000 + (1000 + taxPermille) / 2) / (1000 + taxPermille)
    }
}
