import Foundation

/// A property's WebHotelier account and catalogue, as `GET /_sandbox/accounts` lists it.
public struct PropertyAccount: Sendable, Equatable {
    public struct Room: Sendable, Equatable {
        public var code: String
        public var name: String
        public var maxAdults: Int
        public var capacity: Int
    }

    public struct Rate: Sendable, Equatable {
        public var id: Int
        public var room: String
        public var name: String
        public var board: String
        public var maxAdults: Int
    }

    public var code: String
    public var name: String
    public var username: String
    public var password: String
    public var currency: String
    public var timeZone: String
    public var rooms: [Room]
    public var rates: [Rate]
}

/// One version of one booking and the simulated interval [validFrom, validTo) it held.
public struct BookingVersionTruth: Sendable, Equatable {
    public var bookingID: Int
    /// 1 for the first version.
    public var version: Int
    public var property: String
    public var validFrom: Date
    /// nil while current.
    public var validTo: Date?
    /// The dialect's version time: latest changes[].date, else bookInfo.book_date.
    public var otaTime: Date
    public var event: BookingEvent
    public var status: Int
    /// Set when the API serves this version broken (`body` is the intact version).
    public var malformation: MalformationKind?
    public var body: JSONValue
}

/// Availability of one room on one night.
public struct AvailabilityTruth: Sendable, Equatable {
    public var property: String
    public var room: String
    public var date: String
    public var allotment: Int
    public var stopSell: Bool
    public var minStay: Int
    public var maxStay: Int
    public var closedToArrival: Bool
    public var closedToDeparture: Bool
}

/// Price and restrictions of one rate on one night for one occupancy.
public struct RateTruth: Sendable, Equatable {
    public var property: String
    public var rateID: Int
    public var room: String
    public var date: String
    public var adults: Int
    public var children: Int
    public var priceCents: Int
    public var currency: String
    public var extraAdultCents: Int
    public var extraChildCents: Int
    public var closeout: Bool
    public var minStay: Int
}

/// The current version of one cursor-feed record.
public struct InventoryRecordTruth: Sendable, Equatable {
    public var id: String
    public var property: String
    public var room: String
    public var ratePlan: String
    public var stayDate: String
    public var adults: Int
    public var priceCents: Int
    public var currency: String
    public var available: Int
    public var updatedAt: Date
}

/// A record the API serves broken, and what is wrong with it.
public struct MalformedRecord: Sendable, Equatable {
    public var surface: RecordSurface
    public var kind: MalformationKind
    public var detail: String
    public var property: String
    /// bookings: the confirmation number and version.
    public var bookingID: Int?
    public var version: Int?
    /// availability: the room; rates: the rate id; both with the real (intended) date.
    public var room: String?
    public var rateID: Int?
    public var date: String?
    /// inventory: the record id.
    public var recordID: String?
}

/// Counters of what the sandbox served and injected.
public struct SandboxStats: Sendable, Equatable {
    public var requests: [String: Int]
    public var faults: [String: Int]
    public var violations: [String: Int]
    public var priceDrifts: Int
    /// Feed reads (availability and rates requests) per property code.
    public var feedReads: [String: Int] = [:]
}
