/// The two queues of the pull API.
enum OpenTravelQueue: String, Sendable, CaseIterable {
    /// `OTA_HotelResNotif`: new bookings, no ResStatus.
    case new
    /// `OTA_HotelResModifyNotif`: modifications and cancellations.
    case modify

    var path: String { self == .new ? "OTA_HotelResNotif" : "OTA_HotelResModifyNotif" }
    var requestRoot: String { self == .new ? "OTA_HotelResNotifRQ" : "OTA_HotelResModifyNotifRQ" }
    var responseRoot: String { self == .new ? "OTA_HotelResNotifRS" : "OTA_HotelResModifyNotifRS" }
}

/// One reservation waiting in a queue until the account acknowledges it.
struct OpenTravelQueueItem: Sendable {
    var id: Int
    var hotel: Int
    /// The booking version it carries (1-based).
    var version: Int
    /// Changes whenever the item is replaced: what an acknowledgement must refer to.
    var revision: Int
    /// nil in the new queue; "Modify" or "Cancel" in the modify queue.
    var resStatus: String?
    /// When the booking entered the queue (kept through replacements): the fallback runs from it.
    var queuedAt: Int64
    /// When the item last changed.
    var changedAt: Int64
    /// Set once the item waited `fallbackMinutes` unacknowledged.
    var fallbackAt: Int64?
}

/// An item that waited too long: the OTA "emailed the property".
struct OpenTravelFallback: Sendable {
    var account: Int
    var queue: OpenTravelQueue
    var id: Int
    var hotel: Int
    var version: Int
    var queuedAt: Int64
    var fallbackAt: Int64
}

/// One POST to a queue path and what became of it.
struct OpenTravelAckRecord: Sendable {
    struct Line: Sendable {
        var id: Int
        /// removed, not_queued or stale.
        var result: String
        var version: Int?
        var lastModify: Int64?
    }

    var seq: Int
    var account: Int?
    var queue: OpenTravelQueue
    var at: Int64
    var wallMilliseconds: Int64
    var http: Int
    /// applied, stale, not_processed, unauthorized, forbidden, server_error, bad_request,
    /// dropped (by a test's interceptor).
    var outcome: String
    /// sent, connection_reset or truncated.
    var answer: String
    var lines: [Line]
}

/// A GET that came sooner than the dialect's cadence allows.
struct OpenTravelTooFastPoll: Sendable {
    var account: Int
    var queue: OpenTravelQueue
    var wallMilliseconds: Int64
    var gapMilliseconds: Int
    var requiredMilliseconds: Int
}

/// Per account: its queues and what its last GETs served.
struct OpenTravelAccountState: Sendable {
    var items: [OpenTravelQueue: [Int: OpenTravelQueueItem]] = [.new: [:], .modify: [:]]
    /// Per queue, per id, the revision the latest GET that listed it served.
    var served: [OpenTravelQueue: [Int: Int]] = [.new: [:], .modify: [:]]
    var lastGet: [OpenTravelQueue: ContinuousClock.Instant] = [:]
    var lastAck: [OpenTravelQueue: ContinuousClock.Instant] = [:]
    var gets: [OpenTravelQueue: Int] = [:]
}

/// What an acknowledgement did.
enum OpenTravelAckOutcome {
    case applied([OpenTravelAckRecord.Line])
    case stale(firstStale: Int, [OpenTravelAckRecord.Line])
    case forbidden(hotel: Int)
}

/// Everything OpenTravel keeps in the world (behind the world's lock, so queues move
/// with the bookings): accounts, queues, the acknowledgement log and fallbacks.
struct OpenTravelState: Sendable {
    let settings: OpenTravelSettings
    /// Simulated start: versions from here on are what queues and pushes carried.
    let startTime: Int64
    let accounts: [OpenTravelAccount]
    /// Per account, the property indices connected to it.
    var connected: [Set<Int>]
    /// Per property, the accounts connected to it.
    let accountsByHotel: [[Int]]
    var state: [OpenTravelAccountState]
    var nextRevision = 1
    var acks: [OpenTravelAckRecord] = []
    var fallbacks: [OpenTravelFallback] = []
    var tooFastPolls: [OpenTravelTooFastPoll] = []
    /// Token -> (account, expiry).
    var tokens: [String: (account: Int, expires: ContinuousClock.Instant)] = [:]
    var tokenRNG: SeededGenerator

    init(settings: OpenTravelSettings, layout: WorldLayout, startTime: Int64) {
        self.settings = settings
        self.startTime = startTime
        let accounts =
            settings.accounts
            ?? [
                OpenTravelAccount(
                    username: "ota-machine", password: String(StableHash.combine([layout.seed, 70]), radix: 16),
                    hotels: layout.properties.map(\.code))
            ]
        self.accounts = accounts
        connected = accounts.map { Set($0.hotels.compactMap { layout.propertyIndex(code: $0) }) }
        var byHotel = Array(repeating: [Int](), count: layout.properties.count)
        for (a, hotels) in connected.enumerated() {
            for h in hotels { byHotel[h].append(a) }
        }
        accountsByHotel = byHotel
        state = Array(repeating: OpenTravelAccountState(), count: accounts.count)
        tokenRNG = SeededGenerator(layout.seed, 71)
    }

    func account(username: String) -> Int? {
        accounts.firstIndex { $0.username == username }
    }

    /// A booking got a new version: every connected account's queues follow the
    /// dialect's rules (a change before the ack replaces the item; a cancellation
    /// before the ack moves it to the modify queue).
    mutating func record(id: Int, hotel: Int, version: Int, event: BookingEvent, at time: Int64) {
        for a in accountsByHotel[hotel] {
            let revision = nextRevision
            nextRevision += 1
            // Mutated in place: a copy of a queue per booking change would cost its size.
            let pendingNew = state[a].items[.new]![id]
            let pendingModify = state[a].items[.modify]![id]
            var item = OpenTravelQueueItem(
                id: id, hotel: hotel, version: version, revision: revision, resStatus: nil,
                queuedAt: pendingNew?.queuedAt ?? pendingModify?.queuedAt ?? time, changedAt: time,
                fallbackAt: pendingNew?.fallbackAt ?? pendingModify?.fallbackAt)
            switch event {
            case .created:
                state[a].items[.new]![id] = item
            case .modified, .restored:
                if pendingNew != nil {
                    state[a].items[.new]![id] = item
                } else {
                    item.resStatus = "Modify"
                    state[a].items[.modify]![id] = item
                }
            case .cancelled:
                state[a].items[.new]![id] = nil
                item.resStatus = "Cancel"
                state[a].items[.modify]![id] = item
            }
        }
    }

    /// Items a GET serves (oldest first), recording the revision served for each.
    mutating func serve(
        account a: Int, queue: OpenTravelQueue, hotels: Set<Int>?, id: Int?, changedSince: Int64?, limit: Int
    ) -> [OpenTravelQueueItem] {
        let items = state[a].items[queue]!.values
            .filter { item in
                connected[a].contains(item.hotel) && (hotels?.contains(item.hotel) ?? true)
                    && (id.map { $0 == item.id } ?? true) && (changedSince.map { item.changedAt >= $0 } ?? true)
            }
            .sorted { ($0.queuedAt, $0.id) < ($1.queuedAt, $1.id) }
            .prefix(max(0, limit))
        for item in items { state[a].served[queue]![item.id] = item.revision }
        return Array(items)
    }

    /// Applies an acknowledgement all or nothing.
    mutating func acknowledge(
        account a: Int, queue: OpenTravelQueue, ids: [Int], hotelOf: (Int) -> Int?, lastModify: (Int, Int) -> Int64?
    ) -> OpenTravelAckOutcome {
        var lines: [OpenTravelAckRecord.Line] = []
        var firstStale: Int?
        for id in ids {
            if let hotel = hotelOf(id), !connected[a].contains(hotel) {
                return .forbidden(hotel: hotel)
            }
            guard let item = state[a].items[queue]![id] else {
                lines.append(.init(id: id, result: "not_queued"))
                continue
            }
            let fresh = state[a].served[queue]![id] == item.revision
            if !fresh && firstStale == nil { firstStale = id }
            lines.append(
                .init(
                    id: id, result: fresh ? "removed" : "stale", version: item.version,
                    lastModify: lastModify(id, item.version)))
        }
        if let firstStale {
            return .stale(firstStale: firstStale, lines.map { $0.result == "removed" ? withResult($0, "kept") : $0 })
        }
        for line in lines where line.result == "removed" {
            state[a].items[queue]![line.id] = nil
            state[a].served[queue]![line.id] = nil
        }
        return .applied(lines)
    }

    private func withResult(_ line: OpenTravelAckRecord.Line, _ result: String) -> OpenTravelAckRecord.Line {
        var copy = line
        copy.result = result
        return copy
    }

    /// Marks items that waited `fallbackMinutes` (simulated) unacknowledged.
    mutating func checkFallbacks(now: Int64) {
        let limit = Int64(settings.fallbackMinutes) * 60
        for a in state.indices {
            for queue in OpenTravelQueue.allCases {
                for (id, item) in state[a].items[queue]! where item.fallbackAt == nil && now - item.queuedAt >= limit {
                    let at = item.queuedAt + limit
                    state[a].items[queue]![id]!.fallbackAt = at
                    fallbacks.append(
                        OpenTravelFallback(
                            account: a, queue: queue, id: id, hotel: item.hotel, version: item.version,
                            queuedAt: item.queuedAt, fallbackAt: at))
                }
            }
        }
        fallbacks.sort { ($0.fallbackAt, $0.account, $0.id) < ($1.fallbackAt, $1.account, $1.id) }
    }

    /// Counts a GET and logs it when it came sooner than the cadence allows.
    mutating func notePoll(account a: Int, queue: OpenTravelQueue, wallMilliseconds: Int64) {
        let now = ContinuousClock.Instant.now
        state[a].gets[queue, default: 0] += 1
        defer { state[a].lastGet[queue] = now }
        guard let last = state[a].lastGet[queue] else { return }
        let since: ContinuousClock.Instant
        let required: Double
        if let ack = state[a].lastAck[queue], ack > last {
            since = ack
            required = settings.pollAfterAckSeconds
        } else {
            since = last
            required = settings.pollIntervalSeconds
        }
        let gap = since.duration(to: now)
        let gapMs = Int(gap.components.seconds) * 1000 + Int(gap.components.attoseconds / 1_000_000_000_000_000)
        let requiredMs = Int(required * 1000)
        if gapMs < requiredMs {
            tooFastPolls.append(
                OpenTravelTooFastPoll(
                    account: a, queue: queue, wallMilliseconds: wallMilliseconds, gapMilliseconds: gapMs,
                    requiredMilliseconds: requiredMs))
        }
    }

    mutating func issueToken(account a: Int) -> String {
        let token = "otk-" + String(tokenRNG.next(), radix: 16) + String(tokenRNG.next(), radix: 16)
        tokens[token] = (a, .now + .seconds(settings.tokenLifetimeSeconds))
        return token
    }

    func account(token: String) -> Int? {
        guard let entry = tokens[token], entry.expires > .now else { return nil }
        return entry.account
    }
}
