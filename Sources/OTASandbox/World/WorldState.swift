/// Why a booking got a new version.
public enum BookingEvent: String, Sendable {
    case created
    case modified
    case cancelled
    case restored
}

/// One state of a booking and the simulated interval [validFrom, validTo) it held.
struct BookingVersion: Sendable {
    var body: BookingBody
    var validFrom: Int64
    var validTo: Int64?
    var event: BookingEvent
    var malformation: MalformationKind?
}

struct BookingRecord: Sendable {
    var property: Int
    var versions: [BookingVersion]
    /// Once acknowledged (sync call or PUSH 200), later changes enter the queue as MOD.
    var everSynced: Bool
    var current: BookingBody { versions[versions.count - 1].body }
}

/// Something a webhook may announce.
enum WorldEvent: Sendable {
    case booking(property: Int, id: Int, type: String, version: Int, body: JSONValue)
    case rateUpdate(property: Int, rate: Int, night: Int, time: Int64, priceCents: Int)
    /// Every new version (silent ones included), for OpenTravel pushes.
    case bookingVersion(property: Int, id: Int, version: Int, event: BookingEvent, body: BookingBody)
}

/// A booking resent as NEW although it was synced before (a behaviour fault).
struct ResentNew: Sendable {
    var id: Int
    var property: Int
    var time: Int64
}

/// Everything in the world that changes, kept behind one lock by `SandboxWorld`.
struct WorldState: Sendable {
    let layout: WorldLayout
    var faults: FaultSettings
    let activity: ActivityRates
    let minimumPendingInterval: Int64
    /// SandboxConfiguration.cursorFeedPriceOffsetCents.
    let cursorFeedPriceOffsetCents: Int
    /// Rates (layout indices) the WebHotelier feeds no longer serve: a withdrawn rate plan.
    var withdrawnRates: Set<Int> = []
    var now: Int64
    var grids: InventoryGrids
    var feed: InventoryFeedLog
    var bookings: [Int: BookingRecord] = [:]
    var bookingIDsByProperty: [[Int]]
    var nextBookingID = 1_000_001
    var queues: [[Int: SyncQueueEntry]]
    var lastPendingList: [Int64?]
    var violations: [Int]
    /// Per property, the bookings a sync call removed from the queue (what the
    /// `repeat_synced_id_rate` fault may list again).
    var syncedByCall: [Set<Int>]
    /// Per property, PINGs sent whose pending-list read has not come yet: such a read
    /// is exempt from the minimum interval (dialect), and is not a violation.
    var pingCredits: [Int]
    var resentNew: [ResentNew] = []
    /// Changes made without entering the sync queue (the silent-change fault).
    var silentChanges: [ResentNew] = []
    var driftCount = 0
    var behaviourFaults: [String: Int] = [:]
    /// Collected while a step runs when webhooks want them.
    var events: [WorldEvent] = []
    var wantsBookingEvents = false
    var wantsRateEvents = false
    /// The OpenTravel accounts' queues and logs (they move with the bookings).
    var openTravel: OpenTravelState
    /// Off while the world is generated: bookings made before the start were
    /// acknowledged long ago and never enter an OpenTravel queue.
    var recordsOpenTravel = false

    init(configuration: SandboxConfiguration) {
        let (layout, factors) = WorldGeneration.makeLayout(configuration: configuration)
        self.layout = layout
        faults = configuration.faults
        activity = configuration.activity
        minimumPendingInterval = Int64(configuration.minimumPendingIntervalMinutes) * 60
        cursorFeedPriceOffsetCents = configuration.cursorFeedPriceOffsetCents
        now = Int64(configuration.startTime.timeIntervalSince1970)
        grids = WorldGeneration.makeGrids(layout: layout, priceFactors: factors)
        feed = InventoryFeedLog(cellCount: 0, startMinute: 0, seed: 0) { _ in (0, 0) }
        let count = layout.properties.count
        bookingIDsByProperty = Array(repeating: [], count: count)
        queues = Array(repeating: [:], count: count)
        lastPendingList = Array(repeating: nil, count: count)
        violations = Array(repeating: 0, count: count)
        syncedByCall = Array(repeating: [], count: count)
        pingCredits = Array(repeating: 0, count: count)
        openTravel = OpenTravelState(settings: configuration.openTravel, layout: layout, startTime: now)
        for p in 0..<count {
            var rng = SeededGenerator(layout.seed, 6, UInt64(p))
            for _ in 0..<configuration.initialBookingsPerProperty {
                createHistoricBooking(property: p, rng: &rng)
            }
        }
        let grids = self.grids
        feed = InventoryFeedLog(cellCount: layout.feedCellCount, startMinute: Int32(now / 60), seed: layout.seed) {
            Self.feedValue(cell: $0, layout: layout, grids: grids)
        }
        recordsOpenTravel = true
    }

    static func feedValue(cell: Int, layout: WorldLayout, grids: InventoryGrids) -> (price: Int, available: Int) {
        let c = layout.cell(cell)
        let rate = layout.rates[c.rate]
        return (
            grids.price(rate: c.rate, night: c.night, adults: c.adults, occupancies: rate.occupancies),
            grids.availability[rate.room][c.night].allotment
        )
    }

    var today: Int { Int(now / 86400) }

    mutating func markRoomNightChanged(room: Int, night: Int) {
        for r in layout.rooms[room].rates {
            markRateNightChanged(rate: r, night: night)
        }
    }

    mutating func markRateNightChanged(rate: Int, night: Int) {
        for adults in 1...layout.rates[rate].occupancies {
            feed.markChanged(layout.cellIndex(rate: rate, night: night, adults: adults))
        }
    }

    mutating func countBehaviourFault(_ name: String) {
        behaviourFaults[name, default: 0] += 1
    }
}
