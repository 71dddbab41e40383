import Foundation

/// The state one sandbox shares between its HTTP handlers, its clock and its
/// webhooks. Each sandbox has its own, so many can run in one process.
final class SandboxCore: Sendable {
    let configuration: SandboxConfiguration
    let layout: WorldLayout
    let world: Locked<WorldState>
    let counters: Locked<RequestCounters>
    let dice: Locked<TransportFaultDice>
    /// The OpenTravel paths' own dice, so polling them leaves WebHotelier's faults as they were.
    let openTravelDice: Locked<TransportFaultDice>
    let bucket: Locked<TokenBucket?>
    let propertyByUsername: [String: Int]
    let webhooks: WebhookDispatcher
    let openTravelPushes: OpenTravelPushSender
    let openTravelARI: OpenTravelARISender
    let baseURL = Locked<String?>(nil)
    /// Called with the booking id before a sync is applied: lets a test act at the
    /// moment the client acknowledges (e.g. crash the client's database).
    let syncObserver = Locked<(@Sendable (Int) async -> Void)?>(nil)
    /// Called with the account, the queue ("new"/"modify") and the ids before an OpenTravel
    /// acknowledgement is applied (the same use: act at the moment of the ack).
    /// Answers whether the acknowledgement is applied (false: dropped unapplied, as if it never came).
    let openTravelAckObserver = Locked<(@Sendable (String, String, [String]) async -> Bool)?>(nil)

    init(configuration: SandboxConfiguration) throws {
        self.configuration = configuration
        let state = WorldState(configuration: configuration)
        let world = Locked(state)
        let counters = Locked(RequestCounters())
        layout = state.layout
        self.world = world
        self.counters = counters
        dice = Locked(TransportFaultDice(rng: SeededGenerator(configuration.seed, 50)))
        openTravelDice = Locked(TransportFaultDice(rng: SeededGenerator(configuration.seed, 72)))
        bucket = Locked(configuration.feedQuota.map(TokenBucket.init))
        propertyByUsername = Dictionary(
            uniqueKeysWithValues: state.layout.properties.enumerated().map { ($1.username, $0) })
        webhooks = WebhookDispatcher(
            seed: configuration.seed, retry: configuration.webhookRetry,
            count: { kind in counters.withLock { $0.faults[kind, default: 0] += 1 } },
            acknowledge: { property, id, versions in
                world.withLock { $0.acknowledgePush(property: property, id: id, versionCount: versions) }
            },
            pinged: { property in world.withLock { $0.pingCredits[property] += 1 } },
            faults: { world.withLock { $0.faults } })
        openTravelPushes = OpenTravelPushSender(
            seed: configuration.seed, settings: configuration.openTravel,
            count: { kind in counters.withLock { $0.faults[kind, default: 0] += 1 } },
            faults: { world.withLock { $0.faults } })
        openTravelARI = OpenTravelARISender(
            seed: configuration.seed, layout: state.layout, settings: configuration.openTravel,
            count: { kind in counters.withLock { $0.faults[kind, default: 0] += 1 } })
        for registration in configuration.webhooks {
            _ = try webhooks.register(registration, layout: layout)
        }
    }

    var faults: FaultSettings { world.withLock { $0.faults } }

    /// Queues a plan's ARI pushes, stamped with the simulated time now.
    func pushOpenTravelARI(_ plan: OpenTravelARIPlan) -> Int {
        openTravelARI.push(plan, now: world.withLock { $0.now }, registrations: webhooks.registrations)
    }

    func countRequest(_ endpoint: String) {
        counters.withLock { $0.requests[endpoint, default: 0] += 1 }
    }

    func countFeedRead(property: Int) {
        let code = layout.properties[property].code
        counters.withLock { $0.feedReads[code, default: 0] += 1 }
    }

    func countFault(_ kind: String) {
        counters.withLock { $0.faults[kind, default: 0] += 1 }
    }

    /// Moves simulated time and hands what happened to the webhooks.
    @discardableResult
    func advance(minutes: Int) -> Int64 {
        let (wantBookings, wantRates) = webhooks.interests()
        let (now, events) = world.withLock { state -> (Int64, [WorldEvent]) in
            state.wantsBookingEvents = wantBookings
            state.wantsRateEvents = wantRates
            state.advance(minutes: minutes)
            let events = state.events
            state.events = []
            return (state.now, events)
        }
        if !events.isEmpty {
            webhooks.enqueue(events, layout: layout, faults: faults)
            let pushes: [OpenTravelPushContent] = events.compactMap {
                guard case .bookingVersion(_, let id, let version, let event, let body) = $0 else { return nil }
                return .reservation(id: id, version: version, event: event, body: body)
            }
            if !pushes.isEmpty { openTravelPushes.enqueue(pushes, registrations: webhooks.registrations) }
        }
        return now
    }
}
