/// Where an ARI message applies: an inclusive range of stay dates, optionally only on
/// some weekdays, for a room and rate plan, a room (all its rates), a rate plan (its
/// room), or neither (every rate of every room of the hotel).
public struct OpenTravelARIControl: Sendable, Equatable {
    /// First and last stay date, as day numbers since 1970-01-01, both included.
    public var start: Int
    public var end: Int
    public var room: String?
    public var rate: String?
    /// Monday first; nil means every day.
    public var days: [Bool]?

    /// Whether the message applies to the night `day`.
    func applies(day: Int) -> Bool {
        guard day >= start, day <= end else { return false }
        guard let days else { return true }
        return days[(day + 3) % 7]
    }
}

/// One `AvailStatusMessage`: a booking limit, one restriction, or both.
public struct OpenTravelARIAvail: Sendable, Equatable {
    public enum Restriction: String, Sendable {
        /// Closed for stay (a stop sell); a `RestrictionStatus` without `Restriction` means this.
        case master = "Master"
        case arrival = "Arrival"
        case departure = "Departure"
    }

    public enum StayLimit: String, Sendable {
        /// Minimum stay counted over every night of the stay (Booking.com's reading).
        case setMinLOS = "SetMinLOS"
        /// Minimum stay counted from the arrival date.
        case setForwardMinStay = "SetForwardMinStay"
        case setMaxLOS = "SetMaxLOS"
    }

    public var control: OpenTravelARIControl
    public var bookingLimit: Int?
    /// (restriction, closed); `omitMaster` writes a Master status without its attribute.
    public var status: (restriction: Restriction, closed: Bool, omitMaster: Bool)?
    public var stay: (kind: StayLimit, nights: Int)?

    public static func == (a: Self, b: Self) -> Bool {
        a.control == b.control && a.bookingLimit == b.bookingLimit
            && a.status?.restriction == b.status?.restriction && a.status?.closed == b.status?.closed
            && a.status?.omitMaster == b.status?.omitMaster && a.stay?.kind == b.stay?.kind
            && a.stay?.nights == b.stay?.nights
    }
}

/// One `RateAmountMessage`: prices per number of guests, and optionally a price per
/// extra adult above the largest of them.
public struct OpenTravelARIRate: Sendable, Equatable {
    public struct Amount: Sendable, Equatable {
        public var guests: Int
        public var cents: Int
    }

    public var control: OpenTravelARIControl
    public var currency: String
    /// Currency on `Rate` (RateGain) rather than on each `BaseByGuestAmt`.
    public var currencyOnRate: Bool
    public var afterTax: Bool
    /// `InvCode` (RateGain) instead of `InvTypeCode` for the room.
    public var invCode: Bool
    public var amounts: [Amount]
    public var additionalAdultCents: Int?
}

/// The content of one ARI request (one HTTP message, one hotel).
public enum OpenTravelARIContent: Sendable, Equatable {
    case avail([OpenTravelARIAvail])
    case rates([OpenTravelARIRate])

    public var root: String {
        switch self {
        case .avail: "OTA_HotelAvailNotifRQ"
        case .rates: "OTA_HotelRateAmountNotifRQ"
        }
    }
}

/// The faults an ARI request may carry on purpose.
public enum OpenTravelARIFault: String, Sendable, CaseIterable {
    /// A room code the hotel does not have (accepted by the dialect, with a warning).
    case unknownRoom = "unknown_room"
    /// A rate plan code the hotel does not have (accepted, with a warning).
    case unknownRate = "unknown_rate"
    /// A hotel code no one configured (refused).
    case unknownHotel = "unknown_hotel"
    /// A rate message with a `BaseByGuestAmt` too many for the room, or two for one
    /// number of guests (refused).
    case wrongGuestCount = "wrong_guest_count"
    /// A body over the size the receiver accepts (refused).
    case oversize
    /// Weekday flags that leave some days out.
    case dayMask = "day_mask"
    /// A room without a rate plan: every rate of the room.
    case roomOnly = "room_only"
    /// A rate plan without a room.
    case rateOnly = "rate_only"
    /// Neither room nor rate plan: every rate of every room.
    case hotelWide = "hotel_wide"
    /// A message delivered once and then sent again, same EchoToken.
    case repeatMessage = "repeat"
    /// The 750-day flush of a hotel.
    case flush
}

/// One ARI request ready to send.
struct OpenTravelARIRequest: Sendable {
    var hotel: String
    var content: OpenTravelARIContent
    var faults: Set<OpenTravelARIFault>
    /// Simulated time written as TimeStamp.
    var time: Int64
    var namespace: Bool
    /// Copies of the messages appended to reach the oversize fault's size.
    var padTo: Int?
    /// Chance that the sender sends the request again once it was delivered.
    var repeatRate: Double
}

/// What a caller asks the sandbox to push: a flush, deltas, or both, and how often each
/// fault appears among the deltas.
public struct OpenTravelARIPlan: Sendable, Equatable {
    /// One full flush (availability, restrictions and rates) per hotel first.
    public var flush = false
    /// Days the flush covers from the simulated today.
    public var flushDays = 750
    /// Only this hotel (flush and deltas), or every hotel.
    public var hotel: String?
    /// Delta requests after the flush, each of 1-4 messages over overlapping ranges.
    public var deltas = 0
    /// Days from today within which deltas start.
    public var deltaHorizonDays = 120
    public var unknownCodeRate = 0.04
    public var unknownHotelRate = 0.02
    public var wrongGuestCountRate = 0.03
    public var repeatRate = 0.05
    /// Oversize requests among the deltas (each a copy of a delta padded past `oversizeBytes`).
    public var oversize = 0
    /// The oversize body's size at least: by default just over the dialect's 10 MB.
    public var oversizeBytes = 10 * 1024 * 1024 + 1024

    public init() {}
}

/// A plan the admin endpoint cannot run, and why.
public struct OpenTravelARIPlanError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "ARI plan: \(message)" }
}
